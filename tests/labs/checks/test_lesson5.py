"""Lesson 5 checks on real git working trees of the app, and against a fake Jenkins API."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from labs.checks import CheckContext, checks_for, run_checks
from labs.checks.core import CheckResult
from labs.practice.starter import write_starter
from tests.labs.checks.fake_jenkins import JenkinsState, fake_jenkins

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "labs" / "app"
LESSON_DIR = ROOT / "labs" / "lessons" / "05-ci-cd"
STARTER = LESSON_DIR / "starter"
APP_FILES = ("Dockerfile", "requirements.txt", "requirements-dev.txt", ".flake8", "ruff.toml")
IDS = ["ci.workflow-valid", "ci.workflow-stages", "ci.travis-valid", "ci.travis-stages",
       "ci.jenkinsfile-stages", "ci.jenkins-green"]
OFFLINE = IDS[:5]  # the checks that read only the working tree


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Lab Test", "-c", "user.email=lab@prodev.dev",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """The starter working tree: the app's build files and the starter Jenkinsfile."""
    tree = tmp_path / "app"
    tree.mkdir()
    for name in APP_FILES:
        shutil.copy2(APP / name, tree / name)
    shutil.copy2(STARTER / "Jenkinsfile", tree / "Jenkinsfile")
    _git(tree, "init", "--quiet", "--initial-branch=main")
    _git(tree, "add", "--all")
    _git(tree, "commit", "--quiet", "-m", "starter")
    return tree


@pytest.fixture
def solved(starter: Path) -> Path:
    """The reference solution: the reference app's own pipelines (the starter drops them)."""
    shutil.copy2(APP / "Jenkinsfile", starter / "Jenkinsfile")
    shutil.copytree(APP / ".github", starter / ".github")
    shutil.copy2(APP / ".travis.yml", starter / ".travis.yml")
    return starter


@pytest.fixture
def solved_copy(tmp_path: Path) -> Path:
    """A solved tree beside the starter fixture's (that one is edited in place)."""
    tree = tmp_path / "solved"
    tree.mkdir()
    for name in (*APP_FILES, "Jenkinsfile", ".travis.yml"):
        shutil.copy2(APP / name, tree / name)
    shutil.copytree(APP / ".github", tree / ".github")
    _git(tree, "init", "--quiet", "--initial-branch=main")
    return tree


def _ctx(repo: Path, jenkins_url: str | None = None) -> CheckContext:
    return CheckContext(namespace="local-ada", learner="ada", cohort="local", repo=repo,
                        jenkins_url=jenkins_url)


def _run(repo: Path, jenkins_url: str | None = None) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(5, _ctx(repo, jenkins_url))}


def _result(repo: Path, check_id: str, jenkins_url: str | None = None) -> CheckResult:
    check = next(c for c in checks_for(5) if c.id == check_id)
    return check.run(_ctx(repo, jenkins_url))


def _write(repo: Path, rel: str, text: str) -> Path:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _failed(result: CheckResult) -> str:
    assert not result.passed, result
    assert result.hint and not result.detail.startswith("error:"), result
    return result.detail


# --- every check, starter and solution (the fake Jenkins serves the pipeline job) ----------

@pytest.mark.service
def test_every_check_fails_on_the_starter(starter: Path) -> None:
    # Before the learner's first run the job exists but has never been built.
    with fake_jenkins(JenkinsState()) as url:
        results = run_checks(5, _ctx(starter, url))
    assert [r.id for r in results] == IDS
    for r in results:
        _failed(r)
    by_id = {r.id: r.detail for r in results}
    assert "no workflow files" in by_id["ci.workflow-valid"]
    assert "there is no .travis.yml" in by_id["ci.travis-stages"]
    assert "no lint stage" in by_id["ci.jenkinsfile-stages"]
    assert "never run" in by_id["ci.jenkins-green"]


@pytest.mark.service
def test_every_check_passes_on_the_solution(solved: Path) -> None:
    state = JenkinsState(number=4, result="SUCCESS", tests=(57, 0, 3))
    with fake_jenkins(state) as url:
        results = _run(solved, url)
    assert all(r.passed for r in results.values()), results
    assert "Checkout" in results["ci.jenkinsfile-stages"].detail
    assert "57 passed" in results["ci.jenkins-green"].detail
    # The build's own report is read by number, so a new build starting between reads is safe.
    assert "/job/sample-api/4/testReport/api/json" in state.requests


@pytest.mark.unit
def test_generated_starter_app_has_the_starter_pipeline(tmp_path: Path) -> None:
    tree = write_starter(5, tmp_path / "app")
    assert (tree / "Jenkinsfile").read_text() == (STARTER / "Jenkinsfile").read_text()
    assert not (tree / ".github").exists()
    assert (APP / ".travis.yml").is_file() and not (tree / ".travis.yml").exists()


@pytest.mark.unit
def test_the_working_tree_checks_fail_on_the_starter_and_pass_on_the_solution(
        starter: Path, solved_copy: Path) -> None:
    for check_id in OFFLINE:
        _failed(_result(starter, check_id))
        assert _result(solved_copy, check_id).passed, _result(solved_copy, check_id)


@pytest.mark.unit
def test_offline_checks_without_a_working_tree(tmp_path: Path) -> None:
    for check_id in OFFLINE:
        ctx = CheckContext(namespace="n", learner="l", cohort="c")
        result = next(c for c in checks_for(5) if c.id == check_id).run(ctx)
        assert "no working tree of the app" in _failed(result)
    assert "not a git working tree" in _failed(_result(tmp_path, "ci.jenkinsfile-stages"))


# --- ci.workflow-valid ----------------------------------------------------------------------

BROKEN = """\
name: CI
on: [push, pull_request]
jobs:
  build:
    steps:
      - uses: actions/checkout@v4
        run: echo both
"""


@pytest.mark.unit
def test_a_broken_workflow_names_the_file_and_the_problems(solved: Path) -> None:
    _write(solved, ".github/workflows/broken.yml", BROKEN)
    detail = _failed(_result(solved, "ci.workflow-valid"))
    assert ".github/workflows/broken.yml: jobs.build: 'runs-on' is a required property" in detail
    assert "broken.yml: jobs.build.steps[0]: only one of 'uses', 'run' may be given" in detail
    assert "ci.yml" not in detail  # the valid file is not blamed


@pytest.mark.unit
def test_workflow_that_is_not_yaml_names_the_line(solved: Path) -> None:
    _write(solved, ".github/workflows/bad.yaml", "on: push\njobs:\n  a: [\n")
    detail = _failed(_result(solved, "ci.workflow-valid"))
    assert "bad.yaml: line 4: not valid YAML" in detail


@pytest.mark.unit
def test_wrong_types_are_reported_with_their_path(solved: Path) -> None:
    _write(solved, ".github/workflows/types.yml",
           "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: soon\n"
           "    steps:\n      - run: echo hi\n")
    assert "types.yml: jobs.a.timeout-minutes:" in _failed(_result(solved, "ci.workflow-valid"))


# --- ci.workflow-stages -----------------------------------------------------------------------

def _ci(repo: Path) -> Path:
    return repo / ".github" / "workflows" / "ci.yml"


def _edit(repo: Path, old: str, new: str) -> None:
    path = _ci(repo)
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


ONE_JOB = """\
on: [push, pull_request]
jobs:
  all:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements-dev.txt
      - run: ruff check .
      - run: pytest --junitxml=out/junit.xml
      - if: always()
        uses: actions/upload-artifact@v4
        with: {name: junit, path: "out/*.xml"}
{tail}
"""
BUILD = "      - run: docker build -t registry.local/api:1 ."
PUSH = "      - run: docker push registry.local/api:1"


@pytest.mark.unit
def test_a_single_job_in_order_passes(solved: Path) -> None:
    _ci(solved).write_text(ONE_JOB.replace("{tail}", f"{BUILD}\n{PUSH}"))
    result = _result(solved, "ci.workflow-stages")
    assert result.passed, result


@pytest.mark.unit
@pytest.mark.parametrize(("tail", "expected"), [
    (f"{PUSH}\n{BUILD}", "does not push an image built after lint and test"),
    (BUILD, "no push step"),
])
def test_push_before_build_fails(solved: Path, tail: str, expected: str) -> None:
    _ci(solved).write_text(ONE_JOB.replace("{tail}", tail))
    assert expected in _failed(_result(solved, "ci.workflow-stages"))


@pytest.mark.unit
def test_build_before_tests_fails(solved: Path) -> None:
    text = ONE_JOB.replace("{tail}", "").replace(
        "      - run: ruff check .\n", f"      - run: ruff check .\n{BUILD}\n{PUSH}\n")
    _ci(solved).write_text(text)
    assert "does not wait for lint and test" in _failed(_result(solved, "ci.workflow-stages"))


@pytest.mark.unit
@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    needs: [lint, test]\n", "", "does not wait for lint and test"),
    ("    needs: [lint, test]\n", "    needs: [lint]\n", "does not wait for lint and test"),
    ("  pull_request:\n", "  workflow_dispatch:\n", "does not run on pull_request"),
    ("        if: ${{ !cancelled() }}\n", "", "add if: always()"),
    ("          path: reports/\n", "          path: coverage/\n", "uploads reports/junit.xml"),
    ("pytest --junitxml=reports/junit.xml", "pytest", "writes no JUnit XML"),
    ("        run: pip install -r requirements-dev.txt\n      - name: Tests",
     "        run: echo skip\n      - name: Tests", "installs the requirements"),
    ("push: ${{ github.event_name != 'pull_request' }}", "push: false", "no push step"),
])
def test_stage_rules(solved: Path, old: str, new: str, expected: str) -> None:
    _edit(solved, old, new)
    assert expected in _failed(_result(solved, "ci.workflow-stages"))


@pytest.mark.unit
def test_build_in_a_workflow_run_after_ci_passes(solved: Path) -> None:
    # The curriculum's split: ci.yml tests, dep.yml builds and pushes once CI has run.
    text = _ci(solved).read_text()
    head, _, image = text.partition("  image:\n")
    _ci(solved).write_text(head)
    _write(solved, ".github/workflows/dep.yml",
           "name: Deploy\non:\n  workflow_run:\n    workflows: [CI]\n    types: [completed]\n"
           "jobs:\n  image:\n" + image.replace("    needs: [lint, test]\n", ""))
    result = _result(solved, "ci.workflow-stages")
    assert result.passed, result
    # Not gated on CI: the same deploy workflow on plain pushes runs whatever the tests say.
    dep = solved / ".github" / "workflows" / "dep.yml"
    dep.write_text(dep.read_text().replace(
        "  workflow_run:\n    workflows: [CI]\n    types: [completed]\n", "  push:\n"))
    assert "does not wait for lint and test" in _failed(_result(solved, "ci.workflow-stages"))


# --- ci.travis-valid, ci.travis-stages -------------------------------------------------------

def _travis(repo: Path, old: str, new: str) -> None:
    path = repo / ".travis.yml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.unit
def test_travis_schema_errors_name_the_field(solved: Path) -> None:
    _travis(solved, "      services: [docker]\n", "      services: [dockerd]\n")
    _travis(solved, "dist: jammy", "dist: [jammy]")
    detail = _failed(_result(solved, "ci.travis-valid"))
    assert "2 schema error(s)" in detail
    assert ".travis.yml: dist: ['jammy'] is not one of" in detail
    assert ".travis.yml: jobs.include[2]" in detail
    # Not YAML at all: the line is named.
    (solved / ".travis.yml").write_text("language: python\nscript: [\n")
    assert ".travis.yml: line 3: not valid YAML" in _failed(_result(solved, "ci.travis-valid"))
    assert "not valid YAML" in _failed(_result(solved, "ci.travis-stages"))


IMAGE_STAGE = "  - name: image\n    if: type = push AND (branch = main OR tag IS present)\n"


@pytest.mark.unit
@pytest.mark.parametrize(("old", "new", "expected"), [
    # The image stage runs first: nothing waits for the tests.
    ("  - test\n" + IMAGE_STAGE, IMAGE_STAGE + "  - test\n", "does not wait for lint and test"),
    ("    - stage: image\n", "    - stage: test\n", "does not wait for lint and test"),
    ("      services: [docker]\n", "", "that job has no Docker (services: [docker])"),
    ("      script: >-\n        pytest", "      after_success: >-\n        pytest",
     "runs in after_success, which cannot fail the build"),
    ("      install: pip install -r requirements-dev.txt\n      before_script: psql",
     "      install: skip\n      before_script: psql", "before any install of the requirements"),
    ("        - docker push \"$IMAGE:$TAG\"\n", "", "no push command"),
    ("        - docker build -t \"$IMAGE:$TAG\" .\n        - docker push \"$IMAGE:$TAG\"\n",
     "        - docker push \"$IMAGE:$TAG\"\n        - docker build -t \"$IMAGE:$TAG\" .\n",
     "does not push an image built after lint and test"),
    ("      name: tests\n", "      name: tests\n      git: {clone: false}\n", "without the code"),
], ids=["image-stage-first", "image-in-test-stage", "no-docker-service", "pytest-after-success",
        "no-install", "no-push", "push-before-build", "no-clone"])
def test_travis_stage_rules(solved: Path, old: str, new: str, expected: str) -> None:
    _travis(solved, old, new)
    assert _result(solved, "ci.travis-valid").passed  # each is valid Travis, only wrong
    assert expected in _failed(_result(solved, "ci.travis-stages"))


ONE_TRAVIS_JOB = """\
language: python
python: "3.12"
services: [docker]
install: pip install -r requirements-dev.txt
script:
  - ruff check .
  - pytest
{tail}
"""


@pytest.mark.unit
@pytest.mark.parametrize(("tail", "passed"), [
    # Every script command runs even after a failing one: a build there is not gated.
    ("  - docker build -t api .\n  - docker push api", False),
    ("after_success:\n  - docker build -t api .\n  - docker push api", True),
    ("after_success: docker build -t api .\ndeploy:\n  provider: script\n"
     "  script: docker push api", True),
    ("after_script:\n  - docker build -t api .\n  - docker push api", False),
], ids=["in-script", "after-success", "deploy-script", "after-script"])
def test_travis_single_job(solved: Path, tail: str, passed: bool) -> None:
    (solved / ".travis.yml").write_text(ONE_TRAVIS_JOB.replace("{tail}", tail))
    assert _result(solved, "ci.travis-valid").passed
    result = _result(solved, "ci.travis-stages")
    assert result.passed is passed, result
    if not passed:
        assert "does not wait for lint and test" in _failed(result)


@pytest.mark.unit
def test_travis_jobs_without_a_stage_join_the_one_before(solved: Path) -> None:
    # No `stages:` list: stages run in order of first use; an entry without `stage:` joins
    # the stage of the entry before it.
    (solved / ".travis.yml").write_text("""\
language: python
install: pip install -r requirements-dev.txt
jobs:
  include:
    - stage: checks
      script: ruff check .
    - script: pytest
    - stage: deliver
      services: docker
      script: docker build -t api . && docker push api
""")
    result = _result(solved, "ci.travis-stages")
    assert result.passed, result
    assert "build: jobs.include[2] script[0]; push: jobs.include[2] script[0]" in result.detail


# --- ci.jenkinsfile-stages --------------------------------------------------------------------

def _jenkinsfile(repo: Path, old: str, new: str) -> None:
    path = repo / "Jenkinsfile"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.unit
def test_stages_out_of_order_fail(solved: Path) -> None:
    text = (solved / "Jenkinsfile").read_text()
    test_stage = text[text.index("        stage('Test')"):text.index("        stage('Build')")]
    (solved / "Jenkinsfile").write_text(text.replace(test_stage, "").replace(
        "        stage('Push')", test_stage + "        stage('Push')"))
    detail = _failed(_result(solved, "ci.jenkinsfile-stages"))
    assert "the build stage must come after the test stage 'Test'" in detail


@pytest.mark.unit
@pytest.mark.parametrize(("old", "new", "expected"), [
    ("junit 'reports/junit.xml'", "echo 'no report'", "no junit step publishes the report"),
    ("junit 'reports/junit.xml'", "junit 'build/*.xml'", "does not match the report"),
    ("pytest --junitxml=reports/junit.xml", "pytest", "writes no JUnit XML"),
    ("docker push \"$IMAGE:$IMAGE_TAG\"", "echo done", None),  # latest is still pushed
    ("pipeline {", "pipeline {{", "is never closed"),
])
def test_jenkinsfile_rules(solved: Path, old: str, new: str, expected: str | None) -> None:
    _jenkinsfile(solved, old, new)
    result = _result(solved, "ci.jenkinsfile-stages")
    if expected is None:
        assert result.passed, result
    else:
        assert expected in _failed(result)


@pytest.mark.unit
def test_one_stage_may_build_and_push_when_its_name_says_so(solved: Path) -> None:
    # Also: parallel stages run together, so Test may come before Lint in their group.
    _write(solved, "Jenkinsfile", """\
// A '}' in a comment, and braces in strings, do not end a block: }
pipeline {
  agent any
  stages {
    stage('Checkout') { steps { git url: 'https://example.com/app.git', branch: 'main' } }
    stage('Install') { steps { sh "pip install -r requirements-dev.txt # ${'}'}" } }
    stage('Checks') {
      parallel {
        stage('Test') {
          steps { sh '''pytest --junitxml=out/junit.xml''' }
          post { always { junit testResults: 'out/*.xml' } }
        }
        stage('Lint') { steps { sh 'flake8 . || echo "}"' } }
      }
    }
    stage('Build and push image') {
      steps { script { docker.build("api:${env.BUILD_NUMBER}").push() } }
    }
  }
}
""")
    result = _result(solved, "ci.jenkinsfile-stages")
    assert result.passed, result
    assert "push: 'Build and push image'" in result.detail


@pytest.mark.unit
def test_one_stage_doing_everything_is_not_six_stages(solved: Path) -> None:
    _write(solved, "Jenkinsfile", """\
pipeline {
  agent any
  stages {
    stage('CI') {
      steps {
        checkout scm
        sh 'pip install -r requirements-dev.txt && ruff check . && pytest --junitxml=r.xml'
        sh 'docker build -t api . && docker push api'
      }
      post { always { junit 'r.xml' } }
    }
  }
}
""")
    assert "must come after the checkout stage 'CI'" in _failed(
        _result(solved, "ci.jenkinsfile-stages"))


# --- ci.jenkins-green against the fake Jenkins ---------------------------------------------

@pytest.mark.service
@pytest.mark.parametrize(("state", "passed", "expected"), [
    (JenkinsState(number=12, result="SUCCESS", tests=(57, 0, 0)), True, "build #12 SUCCESS"),
    (JenkinsState(number=13, result="FAILURE", tests=(50, 7, 0)), False,
     "build #13 of sample-api ended FAILURE (50 passed, 7 failed, 0 skipped)"),
    (JenkinsState(number=14, result="UNSTABLE", tests=(55, 2, 0)), False, "ended UNSTABLE"),
    (JenkinsState(number=15, building=True), False, "build #15 of sample-api is still running"),
    (JenkinsState(job_exists=False), False, "has no job sample-api"),
    (JenkinsState(), False, "has never run"),
    (JenkinsState(number=16, result="SUCCESS"), False, "recorded no test report"),
    (JenkinsState(number=17, result="SUCCESS", tests=(0, 0, 4)), False, "0 passed"),
], ids=["success", "failure", "unstable", "building", "missing-job", "never-built",
        "no-junit", "no-passing-tests"])
def test_jenkins_green(starter: Path, state: JenkinsState, passed: bool, expected: str) -> None:
    with fake_jenkins(state) as url:
        result = _result(starter, "ci.jenkins-green", url)
    assert result.passed is passed, result
    assert expected in result.detail
    if not passed:
        _failed(result)


@pytest.mark.service
def test_jenkins_credentials_ride_in_the_url(starter: Path) -> None:
    state = JenkinsState(number=3, result="SUCCESS", tests=(9, 0, 0),
                         credentials=("admin", "11abcdef"))
    with fake_jenkins(state) as url:
        anonymous = _result(starter, "ci.jenkins-green", url)
        wrong = _result(starter, "ci.jenkins-green", url.replace("://", "://admin:nope@"))
        right = _result(starter, "ci.jenkins-green", url.replace("://", "://admin:11abcdef@"))
    assert "refused the read (403)" in _failed(anonymous)
    assert "refused the read (401)" in _failed(wrong)
    assert right.passed, right


@pytest.mark.unit
def test_jenkins_unreachable_or_not_given(starter: Path) -> None:
    assert "--jenkins-url" in _failed(_result(starter, "ci.jenkins-green"))
    detail = _failed(_result(starter, "ci.jenkins-green", "http://admin:secret@127.0.0.1:9"))
    assert "cannot reach Jenkins at http://admin:***@127.0.0.1:9" in detail
    assert "secret" not in detail

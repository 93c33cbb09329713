"""Lesson 5 checks: the GitHub Actions workflow, the Travis CI configuration and the
Jenkinsfile of the learner's app, and the learner's Jenkins having run that pipeline green with
a test report.

ctx.repo is the learner's working tree of the sample app; ctx.jenkins_url their Jenkins.
"""

from __future__ import annotations

import re
from pathlib import Path

from labs.checks.ci_stages import STAGES, command_stages, covers, junit_paths
from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.jenkins_api import JenkinsError, NotFound, junit_report, last_build, redact
from labs.checks.jenkinsfile import Block, JenkinsfileError, Stage, parse, stages
from labs.checks.travis import CAN_FAIL, TRAVIS_FILE
from labs.checks.travis import SCHEMA as TRAVIS_SCHEMA
from labs.checks.travis import Command as TravisCommand
from labs.checks.travis import read as read_travis
from labs.checks.workflows import (
    WORKFLOW_DIR,
    Graph,
    Step,
    WorkflowLoadError,
    read,
    schema_errors,
    workflow_files,
)

LESSON = 5
JOB = "sample-api"  # the pipeline job infra/components/ci_runner.py defines in Jenkins
MAX_LISTED = 8

WHAT = {
    "checkout": "uses: actions/checkout",
    "install": "pip install -r requirements-dev.txt",
    "lint": "ruff check . or flake8",
    "test": "pytest --junitxml=reports/junit.xml",
    "build": "docker build, or docker/build-push-action",
    "push": "docker push, or docker/build-push-action with push: true",
}


def _tree(ctx: CheckContext) -> Path:
    if ctx.repo is None:
        raise CheckFailed("no working tree of the app was given to this check")
    if not (ctx.repo / ".git").exists():
        raise CheckFailed(f"{ctx.repo} is not a git working tree of the app "
                          "(`invoke lab up --lesson 5` creates it)")
    return ctx.repo


def _workflows(ctx: CheckContext) -> list[Path]:
    files = workflow_files(_tree(ctx))
    if not files:
        raise CheckFailed(f"no workflow files (*.yml) in {WORKFLOW_DIR}")
    return files


def _listed(problems: list[str]) -> str:
    more = len(problems) - MAX_LISTED
    return "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


@register(LESSON, "ci.workflow-valid", "GitHub Actions workflows pass schema validation",
          "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml "
          "shows each error; every job needs runs-on and steps, and a step has either uses or "
          "run, never both")
def workflow_valid(ctx: CheckContext) -> str:
    files = _workflows(ctx)
    problems = [f"{WORKFLOW_DIR / f.name}: {e}" for f in files for e in schema_errors(f)]
    if problems:
        raise CheckFailed(f"{len(problems)} schema error(s): {_listed(problems)}")
    return f"{len(files)} workflow file(s) valid: {', '.join(f.name for f in files)}"


# --- ci.workflow-stages -------------------------------------------------------------------


def _after_in_job(step: Step, earlier: list[Step]) -> bool:
    return any((e.file, e.job) == (step.file, step.job) and e.index < step.index
               for e in earlier)


def _test_problem(graph: Graph, test: Step, by: dict[str, list[Step]]) -> str | None:
    """Why this pytest step is not a usable test stage; None when it is."""
    if not _after_in_job(test, by["checkout"]):
        return f"{test.where} runs before any actions/checkout in its job"
    if not _after_in_job(test, by["install"]):
        return f"{test.where} runs before any step of its job installs the requirements"
    reports = test.junit_reports()
    if not reports:
        return f"{test.where} writes no JUnit XML (pytest --junitxml=reports/junit.xml)"
    later = [s for s in graph.steps() if (s.file, s.job) == (test.file, test.job)
             and s.index > test.index and any(s.publishes(r) for r in reports)]
    if not later:
        return (f"no later step of job {test.job} uploads {reports[0]} "
                "(actions/upload-artifact with its path, or a test-report action)")
    if not any(s.runs_after_failure() for s in later):
        return (f"{later[0].where} publishes the report only when tests pass: "
                "add if: always() (or !cancelled())")
    return None


def _pick_test(graph: Graph, by: dict[str, list[Step]]) -> Step:
    problems = []
    for test in by["test"]:
        problem = _test_problem(graph, test, by)
        if problem is None:
            return test
        problems.append(problem)
    raise CheckFailed(problems[0])


@register(LESSON, "ci.workflow-stages",
          "the workflow checks out, installs, lints, tests with a JUnit report, builds and pushes",
          "on: push and pull_request. In a job: actions/checkout, then pip install -r "
          "requirements-dev.txt, then pytest --junitxml=reports/junit.xml, then "
          "actions/upload-artifact of that file with if: always(). Lint (ruff/flake8) after a "
          "checkout. Build and push the image (docker/build-push-action with push) in a job that "
          "`needs` the lint and test jobs (or after them in the same job, or in a workflow "
          "started by workflow_run of the CI workflow); push only after the build in its job")
def workflow_stages(ctx: CheckContext) -> str:
    try:
        graph = Graph(tuple(read(f) for f in _workflows(ctx)))
    except WorkflowLoadError as exc:
        raise CheckFailed(str(exc)) from None
    steps = list(graph.steps())
    by = {stage: [s for s in steps if stage in s.stages()] for stage in STAGES}
    for stage in STAGES:
        if not by[stage]:
            raise CheckFailed(f"no {stage} step in any workflow ({WHAT[stage]})")

    test = _pick_test(graph, by)
    triggers = graph.workflow(test.file).triggers
    missing = [t for t in ("push", "pull_request") if t not in triggers]
    if missing:
        raise CheckFailed(f"{test.file} (which runs the tests) does not run on "
                          f"{' and '.join(missing)} (on: {', '.join(sorted(triggers)) or '-'})")
    lints = [s for s in by["lint"] if s.uses or _after_in_job(s, by["checkout"])]
    if not lints:
        raise CheckFailed(f"{by['lint'][0].where} lints before any actions/checkout in its job")
    tests = [t for t in by["test"] if _test_problem(graph, t, by) is None]

    builds = [b for b in by["build"] if b.uses or _after_in_job(b, by["checkout"])]
    if not builds:
        raise CheckFailed(f"{by['build'][0].where} builds before any actions/checkout in its "
                          "job")
    gated = [b for b in builds if any(graph.precedes(t, b) for t in tests)
             and any(graph.precedes(lint, b) for lint in lints)]
    if not gated:
        raise CheckFailed(f"{builds[0].where} does not wait for lint and test: give its job "
                          "`needs: [<lint job>, <test job>]` (or put it after them in their job)")
    pushes = [p for p in by["push"]
              if any(p == b or _after_in_job(p, [b]) for b in gated)]
    if not pushes:
        raise CheckFailed(f"{by['push'][0].where} does not push an image built after lint and "
                          "test (push after the build step, in the same job)")
    order = [_first(by["checkout"], test), _first(by["install"], test), lints[0], test,
             gated[0], pushes[0]]
    return "; ".join(f"{stage}: {s.file} jobs.{s.job}.steps[{s.index}]"
                     for stage, s in zip(STAGES, order, strict=True))


def _first(steps: list[Step], of: Step) -> Step:
    """The first of `steps` in the same job as `of`, before it."""
    return next(s for s in steps if (s.file, s.job) == (of.file, of.job) and s.index < of.index)


# --- ci.travis-valid, ci.travis-stages -----------------------------------------------------

TRAVIS_WHAT = {
    "install": "install: pip install -r requirements-dev.txt",
    "lint": "script: ruff check .",
    "test": "script: pytest",
    "build": "docker build, with services: [docker]",
    "push": "docker push, after the build",
}


def _travis_file(ctx: CheckContext) -> Path:
    path = _tree(ctx) / TRAVIS_FILE
    if not path.is_file():
        raise CheckFailed(f"there is no {TRAVIS_FILE} at the root of the working tree")
    return path


@register(LESSON, "ci.travis-valid", f"{TRAVIS_FILE} passes Travis CI's schema",
          f"check-jsonschema --builtin-schema {TRAVIS_SCHEMA} {TRAVIS_FILE} shows each error; a "
          "phase (install, script, ...) takes a command or a list of commands, services a list "
          "of names such as docker, postgresql, rabbitmq")
def travis_valid(ctx: CheckContext) -> str:
    path = _travis_file(ctx)
    problems = [f"{TRAVIS_FILE}: {e}" for e in schema_errors(path, TRAVIS_SCHEMA)]
    if problems:
        raise CheckFailed(f"{len(problems)} schema error(s): {_listed(problems)}")
    return f"{TRAVIS_FILE} valid"


def _before_in_job(first: list[TravisCommand], then: TravisCommand) -> TravisCommand | None:
    return next((c for c in first if c.job == then.job and c.at < then.at), None)


@register(LESSON, "ci.travis-stages",
          "Travis installs, lints and tests, then builds and pushes only once they passed",
          "Travis clones the repository itself. In a job: install: pip install -r "
          "requirements-dev.txt, script: ruff check . and pytest. Build and push the image "
          "(services: [docker]; docker build, then docker push) in a later build stage "
          "(stages: [test, image] and a jobs.include entry with stage: image), or in "
          "after_success/deploy of the job that lints and tests; never in the same script: "
          "Travis runs every script command even after one has failed")
def travis_stages(ctx: CheckContext) -> str:
    try:
        config = read_travis(_travis_file(ctx))
    except WorkflowLoadError as exc:
        raise CheckFailed(f"{TRAVIS_FILE}: {exc}") from None
    commands = list(config.commands())
    by = {stage: [c for c in commands if stage in c.stages()] for stage in STAGES[1:]}
    for stage in STAGES[1:]:
        if not by[stage]:
            raise CheckFailed(f"no {stage} command in {TRAVIS_FILE} ({TRAVIS_WHAT[stage]})")

    def usable(found: list[TravisCommand], stage: str) -> list[TravisCommand]:
        """Commands that can fail the build, in a job that has the code (Travis' clone)."""
        ok = [c for c in found if c.phase in CAN_FAIL and config.jobs[c.job].clones]
        if not ok:
            c = found[0]
            why = (f"runs in {c.phase}, which cannot fail the build" if c.phase not in CAN_FAIL
                   else "runs in a job with git: {clone: false}, without the code")
            raise CheckFailed(f"{c.where} {why} (the {stage} belongs in script)")
        return ok

    lints = usable(by["lint"], "lint")
    tests = [t for t in usable(by["test"], "test") if _before_in_job(by["install"], t)]
    if not tests:
        raise CheckFailed(f"{by['test'][0].where} runs before any install of the requirements "
                          "in its job (install: pip install -r requirements-dev.txt)")
    builds = [b for b in by["build"] if config.jobs[b.job].clones]
    docker = [b for b in builds if "docker" in config.jobs[b.job].services]
    if not docker:
        where = (builds or by["build"])[0]
        raise CheckFailed(f"{where.where}: that job has no Docker (services: [docker])")
    gated = [b for b in docker if any(config.precedes(t, b) for t in tests)
             and any(config.precedes(lint, b) for lint in lints)]
    if not gated:
        raise CheckFailed(f"{docker[0].where} does not wait for lint and test: build in a later "
                          "build stage (jobs.include with stage: image), or in after_success or "
                          "deploy of the job whose script lints and tests")
    pushes = [p for p in by["push"] if any(p == b or config.after_in_job(b, p) for b in gated)]
    if not pushes:
        raise CheckFailed(f"{by['push'][0].where} does not push an image built after lint and "
                          "test (push after the build, in the same job)")
    install = _before_in_job(by["install"], tests[0])
    order = [install, lints[0], tests[0], gated[0], pushes[0]]
    return "checkout: Travis' clone; " + "; ".join(
        f"{stage}: {c.job_label} {c.phase}[{c.index}]"
        for stage, c in zip(STAGES[1:], order, strict=True))


# --- ci.jenkinsfile-stages ----------------------------------------------------------------

NAME_WORDS = {
    "checkout": {"checkout", "clone", "scm", "fetch"},
    "install": {"install", "dependencies", "deps", "setup", "requirements"},
    "lint": {"lint", "linting", "ruff", "flake8", "style"},
    "test": {"test", "tests", "pytest", "unit"},
    "build": {"build"},
    "push": {"push", "publish", "deliver", "release"},
}


def _named(stage: Stage) -> set[str]:
    words = set(re.findall(r"[a-z0-9]+", stage.name.lower()))
    return {kind for kind, names in NAME_WORDS.items() if words & names}


def _steps_do(stage: Stage) -> set[str]:
    """What the stage's own steps do: the checkout step, shell commands, Docker Pipeline."""
    steps = stage.block.child("steps")
    if steps is None:
        return set()
    found = command_stages("\n".join(steps.strings()))
    tokens = steps.tokens
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "word" and tok.value in ("checkout", "git") and nxt is not None \
                and nxt.value not in (".", "="):
            found.add("checkout")
        if tok.value == "." and nxt is not None and nxt.kind == "word":
            if nxt.value == "build" and i > 0 and tokens[i - 1].value == "docker":
                found.add("build")  # docker.build(...)
            if nxt.value == "push":
                found.add("push")  # image.push()
    return found


def _fits(found: tuple[Stage, ...], kinds: list[tuple[set[str], set[str]]], i: int,
          kind: str, prev: int | None) -> bool:
    """Can stage i be `kind`'s stage, after the previous kind's stage `prev`?"""
    if kind not in kinds[i][1]:
        return False
    if prev is None or found[i].step > found[prev].step:
        return True
    if i == prev:  # one stage for two kinds, only when its name says both
        before = STAGES[STAGES.index(kind) - 1]
        return {before, kind} <= kinds[i][0]
    return found[i].step == found[prev].step  # parallel siblings


def _order(found: tuple[Stage, ...]) -> list[Stage]:
    """One stage per kind, each running no earlier than the previous kind's (parallel stages
    run together); two kinds share one stage only if its name says both ('Build and push')."""
    kinds = [(_named(s), _named(s) | _steps_do(s)) for s in found]
    chosen: list[int] = []
    for k, kind in enumerate(STAGES):
        prev = chosen[-1] if chosen else None
        pick = min((i for i in range(len(found)) if _fits(found, kinds, i, kind, prev)),
                   key=lambda i: found[i].step, default=None)
        if pick is None:
            anywhere = [s.name for s, (_, does) in zip(found, kinds, strict=True) if kind in does]
            if not anywhere or prev is None:
                what = "checkout scm" if kind == "checkout" else WHAT[kind]
                raise CheckFailed(f"no {kind} stage ({what})")
            raise CheckFailed(f"the {kind} stage must come after the {STAGES[k - 1]} stage "
                              f"'{found[prev].name}' (found {kind} in: "
                              f"{', '.join(repr(n) for n in anywhere)})")
        chosen.append(pick)
    return [found[i] for i in chosen]


def _junit_patterns(blocks: list[Block | None]) -> list[str]:
    """Report patterns of `junit 'x'` / `junit testResults: 'x'` steps in these blocks."""
    patterns = []
    for block in blocks:
        tokens = block.tokens if block is not None else ()
        for i, tok in enumerate(tokens):
            if tok.kind == "word" and tok.value == "junit":
                nxt = next((t for t in tokens[i + 1:i + 6] if t.kind == "string"), None)
                if nxt is not None:
                    patterns.extend(p.strip() for p in nxt.value.split(","))
    return patterns


@register(LESSON, "ci.jenkinsfile-stages",
          "the Jenkinsfile's stages: checkout, install, lint, test (JUnit), build, push",
          "a declarative pipeline { stages { stage('Checkout') ... } } with stages Checkout "
          "(checkout scm), Install (pip install -r requirements-dev.txt), Lint (ruff check .), "
          "Test (pytest --junitxml=reports/junit.xml, and post { always { junit "
          "'reports/junit.xml' } }), Build (docker build), Push (docker push), in that order")
def jenkinsfile_stages(ctx: CheckContext) -> str:
    path = _tree(ctx) / "Jenkinsfile"
    if not path.is_file():
        raise CheckFailed("there is no Jenkinsfile at the root of the working tree")
    try:
        root = parse(path.read_text(encoding="utf-8"))
        found = stages(root)
    except JenkinsfileError as exc:
        raise CheckFailed(f"Jenkinsfile: {exc}") from None
    if not found:
        raise CheckFailed("the pipeline has no stage('...') blocks")
    chosen = _order(found)
    test = chosen[STAGES.index("test")]
    steps = test.block.child("steps")
    reports = junit_paths("\n".join(steps.strings())) if steps is not None else []
    if not reports:
        raise CheckFailed(f"stage '{test.name}' writes no JUnit XML "
                          "(pytest --junitxml=reports/junit.xml)")
    pipeline = next(root.find("pipeline"))
    patterns = _junit_patterns([test.block.child("post"), steps, pipeline.child("post")])
    if not patterns:
        raise CheckFailed(f"no junit step publishes the report: add post {{ always {{ junit "
                          f"'{reports[0]}' }} }} to stage '{test.name}'")
    if not any(covers(p, r) for p in patterns for r in reports):
        raise CheckFailed(f"junit {patterns[0]!r} does not match the report pytest writes "
                          f"({reports[0]})")
    return " -> ".join(f"{kind}: {s.name!r}" for kind, s in zip(STAGES, chosen, strict=True))


# --- ci.jenkins-green ---------------------------------------------------------------------


@register(LESSON, "ci.jenkins-green",
          f"Jenkins' last {JOB} build succeeded with passing tests",
          f"open Jenkins (kubectl port-forward svc/jenkins 8080:8080), run {JOB} (Build Now) "
          "until it is green and its Test Result lists the tests; pass --jenkins-url "
          "http://admin:API_TOKEN@127.0.0.1:8080")
def jenkins_green(ctx: CheckContext) -> str:
    url = ctx.need_jenkins_url()
    try:
        build = last_build(url, JOB)
        if build is None:
            raise CheckFailed(f"job {JOB} has never run (Build Now)")
        if build.building:
            raise CheckFailed(f"build #{build.number} of {JOB} is still running; check again "
                              "when it ends")
        report = junit_report(url, JOB, build.number)
    except NotFound:
        raise CheckFailed(f"Jenkins at {redact(url)} has no job {JOB}") from None
    except JenkinsError as exc:
        raise CheckFailed(str(exc)) from None
    tests = (f"{report.passed} passed, {report.failed} failed, {report.skipped} skipped"
             if report is not None else "no test report")
    if build.result != "SUCCESS":
        raise CheckFailed(f"build #{build.number} of {JOB} ended {build.result} ({tests})")
    if report is None:
        raise CheckFailed(f"build #{build.number} recorded no test report (the junit step)")
    if report.failed or report.passed <= 0:
        raise CheckFailed(f"build #{build.number} is SUCCESS but its tests: {tests}")
    return f"build #{build.number} SUCCESS; tests: {tests}"

"""CI runner: Jenkins with configuration as code, or a GitHub Actions runner."""

from __future__ import annotations

import yaml

from tests.infra.conftest import containers, env_of, find, rendered


def test_jenkins_defines_the_sample_pipeline_job_and_keeps_its_home() -> None:
    objects = rendered(5)
    casc = yaml.safe_load(find(objects, "ConfigMap", "jenkins-casc")["data"]["jenkins.yaml"])
    [job] = casc["jobs"]
    assert "pipelineJob('sample-api')" in job["script"]
    assert casc["jenkins"]["securityRealm"]["local"]["users"][0]["password"] == \
        "${JENKINS_ADMIN_PASSWORD}"
    sts = find(objects, "StatefulSet", "jenkins")
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "jenkins-home"
    [jenkins] = containers(sts)
    assert env_of(jenkins)["CASC_JENKINS_CONFIG"]["value"] == "/var/jenkins_casc/jenkins.yaml"


def test_jenkins_builds_from_the_learners_repository_when_given() -> None:
    objects = rendered(5, githubRepo="https://github.com/me/app")
    script = yaml.safe_load(find(objects, "ConfigMap", "jenkins-casc")["data"]["jenkins.yaml"])
    assert "url('https://github.com/me/app')" in script["jobs"][0]["script"]


def test_github_runner_registers_with_token_from_a_secret() -> None:
    objects = rendered(5, ciRunner="github-actions", githubRepo="https://github.com/me/app")
    assert not [o for o in objects if o["metadata"]["name"] == "jenkins"]
    [runner] = containers(find(objects, "Deployment", "github-runner"))
    env = env_of(runner)
    assert env["REPO_URL"]["value"] == "https://github.com/me/app"
    assert env["RUNNER_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "github-runner",
                                                               "key": "token"}

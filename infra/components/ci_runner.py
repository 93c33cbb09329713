"""The learner's CI runner: Jenkins (configuration as code) or a GitHub Actions runner."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.components.containers import (
    exec_probe,
    http_probe,
    resources,
    restricted_context,
    secret_env,
)
from infra.components.workload import Port, Workload, deployment, metadata, service, statefulset
from labs.spec import LabSpec

JENKINS_SECRET = "jenkins-admin"
JENKINS_UID = 1000
JENKINS_PORT = 8080
AGENT_PORT = 50000
RUNNER_SECRET = "github-runner"
RUNNER_UID = 1001
JENKINSFILE = Path(__file__).resolve().parents[2] / "labs" / "app" / "Jenkinsfile"


def pipeline_job(spec: LabSpec) -> str:
    """Job DSL for the sample app's pipeline: from the learner's repository when known,
    otherwise the Jenkinsfile shipped with the app, inline."""
    if spec.github_repo:
        return (
            "pipelineJob('sample-api') {\n"
            "  definition {\n    cpsScm {\n"
            f"      scm {{ git {{ remote {{ url('{spec.github_repo}') }}; branch('*/main') }} }}\n"
            "      scriptPath('Jenkinsfile')\n    }\n  }\n}\n"
        )
    script = JENKINSFILE.read_text() if JENKINSFILE.is_file() else "pipeline { agent any }"
    escaped = script.replace("\\", "\\\\").replace("'''", "\\'\\'\\'").replace("$", "\\$")
    return (
        "pipelineJob('sample-api') {\n"
        f"  definition {{\n    cps {{\n      script('''{escaped}''')\n      sandbox()\n    }}\n"
        "  }\n}\n"
    )


def casc(spec: LabSpec) -> str:
    """jenkins.yaml for the configuration-as-code plugin."""
    config = {
        "jenkins": {
            "systemMessage": f"prodev-labs Jenkins for {spec.learner} (lesson "
                             f"{spec.lesson.number})",
            "numExecutors": 2,
            "securityRealm": {"local": {"allowsSignup": False, "users": [
                {"id": "admin", "password": "${JENKINS_ADMIN_PASSWORD}"}]}},
            "authorizationStrategy": {"loggedInUsersCanDoAnything": {
                "allowAnonymousRead": False}},
        },
        "unclassified": {"location": {"url": f"http://jenkins.{spec.namespace}.svc:8080/"}},
        "jobs": [{"script": pipeline_job(spec)}],
    }
    return yaml.safe_dump(config, sort_keys=False)


class CiRunner(pulumi.ComponentResource):
    url: pulumi.Output[str | None]

    def __init__(self, name: str, spec: LabSpec, *, jenkins_image: pulumi.Input[str],
                 jenkins_password: pulumi.Input[str] | None,
                 runner_token: pulumi.Input[str] | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:CiRunner", name, None, opts)
        if spec.ci_runner == "jenkins":
            self._jenkins(name, spec, jenkins_image, jenkins_password)
            self.url = pulumi.Output.from_input(f"http://jenkins.{spec.namespace}.svc:8080")
        else:
            self._github(name, spec, runner_token)
            self.url = pulumi.Output.from_input(spec.github_repo)
        self.register_outputs({"url": self.url})

    def _jenkins(self, name: str, spec: LabSpec, image: pulumi.Input[str],
                 password: pulumi.Input[str] | None) -> None:
        child = pulumi.ResourceOptions(parent=self)
        size = spec.profile.components["jenkins"]
        self.secret = k8s.core.v1.Secret(
            f"{name}-jenkins-admin", metadata=metadata(spec, JENKINS_SECRET, "ci"),
            string_data={"username": "admin", "password": password}, opts=child)
        self.casc = k8s.core.v1.ConfigMap(
            f"{name}-jenkins-casc", metadata=metadata(spec, "jenkins-casc", "ci"),
            data={"jenkins.yaml": casc(spec)}, opts=child)
        container = {
            "name": "jenkins",
            "image": image,
            "ports": [{"name": "http", "container_port": JENKINS_PORT},
                      {"name": "agent", "container_port": AGENT_PORT}],
            "env": [
                {"name": "CASC_JENKINS_CONFIG", "value": "/var/jenkins_casc/jenkins.yaml"},
                {"name": "JAVA_OPTS", "value": "-Djenkins.install.runSetupWizard=false"},
                secret_env("JENKINS_ADMIN_PASSWORD", JENKINS_SECRET, "password"),
            ],
            "resources": resources(size.resources),
            "security_context": restricted_context(JENKINS_UID),
            "startup_probe": http_probe("/login", "http", delay=10, period=10, failures=30),
            "readiness_probe": http_probe("/login", "http", delay=0, period=10),
            "liveness_probe": http_probe("/login", "http", delay=0, period=30, failures=5),
            "volume_mounts": [{"name": "casc", "mount_path": "/var/jenkins_casc",
                               "read_only": True}],
        }
        workload = Workload("jenkins", "ci", [container], JENKINS_UID, internet=True,
                            volumes=[{"name": "casc",
                                      "config_map": {"name": "jenkins-casc"}}])
        self.service = service(spec, "jenkins", "ci",
                               [Port("http", JENKINS_PORT), Port("agent", AGENT_PORT)],
                               opts=child)
        self.statefulset = statefulset(
            spec, workload, service_name="jenkins", volume="jenkins-home",
            storage=size.storage or "4Gi", mount_path="/var/jenkins_home",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret, self.casc]))

    def _github(self, name: str, spec: LabSpec, token: pulumi.Input[str] | None) -> None:
        size = spec.profile.components["github_runner"]
        self.secret = k8s.core.v1.Secret(
            f"{name}-github-runner", metadata=metadata(spec, RUNNER_SECRET, "ci"),
            string_data={"token": token}, opts=pulumi.ResourceOptions(parent=self))
        configured = ["test", "-s", "/home/runner/.runner"]  # written by config.sh
        container = {
            "name": "runner",
            "image": spec.images.github_runner,
            "command": ["sh", "-c",
                        "./config.sh --unattended --replace --url \"$REPO_URL\" "
                        "--token \"$RUNNER_TOKEN\" --name \"$RUNNER_NAME\" "
                        "--labels \"$RUNNER_LABELS\" && exec ./run.sh"],
            "env": [
                {"name": "REPO_URL", "value": spec.github_repo},
                {"name": "RUNNER_NAME", "value": spec.namespace},
                {"name": "RUNNER_LABELS", "value": f"prodev-labs,{spec.cohort}"},
                secret_env("RUNNER_TOKEN", RUNNER_SECRET, "token"),
            ],
            "resources": resources(size.resources),
            "security_context": restricted_context(RUNNER_UID),
            "readiness_probe": exec_probe(configured, delay=10, period=15),
            "liveness_probe": exec_probe(configured, delay=120, period=60),
        }
        self.deployment = deployment(
            spec, Workload("github-runner", "ci", [container], RUNNER_UID, internet=True),
            replicas=1, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret]))

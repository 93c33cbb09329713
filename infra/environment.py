"""LabEnvironment: one learner's whole environment, composed from the lesson's components."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.components.api import SampleApi
from infra.components.app_env import APP_SECRET
from infra.components.chapa_sandbox import ChapaSandbox
from infra.components.ci_runner import CiRunner
from infra.components.images import AppImages
from infra.components.mailpit import MailCatcher
from infra.components.namespace import LearnerNamespace
from infra.components.postgres import Postgres
from infra.components.rabbitmq import RabbitMQ
from infra.components.worker import CeleryWorkers
from infra.components.workload import metadata
from labs.secrets import GITHUB_RUNNER_TOKEN
from labs.spec import LabSpec


class LabEnvironment(pulumi.ComponentResource):
    """Namespace guardrails first, then the lesson's components inside the namespace.

    `secrets` maps the stack's secret config keys (labs.secrets) to their values.
    """

    def __init__(self, spec: LabSpec, secrets: Mapping[str, pulumi.Input[str]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        name = spec.namespace
        super().__init__("prodevlabs:index:LabEnvironment", name, None, opts)
        self.spec = spec
        self.namespace = LearnerNamespace(name, spec, opts=pulumi.ResourceOptions(parent=self))
        inside = pulumi.ResourceOptions(parent=self, depends_on=self.namespace.ready)

        self.app_secret = None
        if spec.deploys("api"):
            self.app_secret = k8s.core.v1.Secret(
                f"{name}-app-secrets", metadata=metadata(spec, APP_SECRET, "api"),
                string_data={
                    "django-secret-key": secrets["djangoSecretKey"],
                    "chapa-secret-key": secrets["chapaSecretKey"],
                    "chapa-webhook-secret": secrets["chapaWebhookSecret"],
                }, opts=inside)
        images = AppImages(f"{name}-images", spec, opts=pulumi.ResourceOptions(parent=self))

        self.postgres = Postgres(f"{name}-postgres", spec, secrets["postgresPassword"],
                                 opts=inside) if spec.deploys("postgres") else None
        self.rabbitmq = RabbitMQ(f"{name}-rabbitmq", spec, secrets["rabbitmqPassword"],
                                 opts=inside) if spec.deploys("rabbitmq") else None
        self.mailpit = MailCatcher(f"{name}-mailpit", spec,
                                   opts=inside) if spec.deploys("mailpit") else None
        self.chapa = ChapaSandbox(f"{name}-chapa", spec, images.refs["chapa_sandbox"],
                                  opts=inside) if spec.deploys("chapa_sandbox") else None

        # The app starts after what it talks to exists (Services resolve, Secrets mount).
        app_deps = [r for r in (self.app_secret, self.postgres, self.rabbitmq, self.mailpit,
                                self.chapa) if r is not None]
        app_opts = pulumi.ResourceOptions(parent=self,
                                          depends_on=[*self.namespace.ready, *app_deps])
        self.api = SampleApi(f"{name}-api", spec, images.refs["api"],
                             opts=app_opts) if spec.deploys("api") else None
        self.workers = CeleryWorkers(f"{name}-workers", spec, images.refs["api"],
                                     opts=app_opts) if spec.deploys("worker") else None
        self.ci = CiRunner(
            f"{name}-ci", spec, jenkins_image=images.refs["jenkins"],
            jenkins_password=secrets.get("jenkinsAdminPassword"),
            runner_token=secrets.get(GITHUB_RUNNER_TOKEN),
            opts=inside) if spec.deploys("ci_runner") else None

        self.outputs = self._outputs()
        self.register_outputs(self.outputs)

    def _outputs(self) -> dict[str, pulumi.Input]:
        """Where things are: names and in-cluster URLs only, never a secret value."""
        spec = self.spec
        out: dict[str, pulumi.Input] = {
            "namespace": self.namespace.name,
            "cohort": spec.cohort,
            "learner": spec.learner,
            "lesson": spec.lesson.number,
            "components": list(spec.lesson.components),
            "serviceAccount": self.namespace.service_account,
        }
        if self.api:
            out["apiUrl"] = self.api.url
            out["apiIngressHost"] = self.api.ingress_host
        if self.postgres:
            out["postgres"] = {"host": self.postgres.host, "port": 5432,
                               "secret": self.postgres.secret_name}
        if self.rabbitmq:
            out["rabbitmq"] = {"host": self.rabbitmq.host, "port": 5672,
                               "management": f"http://rabbitmq.{spec.namespace}.svc:15672",
                               "secret": self.rabbitmq.secret_name}
        if self.mailpit:
            out["mailUrl"] = self.mailpit.web_url
        if self.chapa:
            out["chapaUrl"] = self.chapa.url
        if self.ci:
            out["ciUrl"] = self.ci.url
            out["ciRunner"] = spec.ci_runner
        return out


def preload_resource_types() -> None:
    """Load every pulumi_kubernetes module the program uses, once, in the calling thread.

    pulumi_kubernetes loads its modules lazily, on first attribute access, and that load is
    not thread-safe: parallel inline programs (a cohort run) otherwise fail with "module
    'pulumi_kubernetes.core.v1' has no attribute 'Namespace'"."""
    for group, version, name in (("core", "v1", "Namespace"), ("apps", "v1", "Deployment"),
                                 ("batch", "v1", "Job"), ("rbac", "v1", "Role"),
                                 ("networking", "v1", "Ingress"),
                                 ("autoscaling", "v2", "HorizontalPodAutoscaler"),
                                 ("meta", "v1", "ObjectMetaArgs")):
        getattr(getattr(getattr(k8s, group), version), name)

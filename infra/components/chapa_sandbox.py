"""The Chapa sandbox (labs/chapa_sandbox): Chapa's payment API, offline, for lesson 6.

It shares the learner's generated test key and webhook secret with the app through the app
Secret, so payments initiated by the app are accepted and webhooks verify.
"""

from __future__ import annotations

import pulumi

from infra.components.app_env import APP_SECRET, CHAPA_SANDBOX_PORT, CHAPA_SANDBOX_SERVICE
from infra.components.containers import http_probe, resources, restricted_context, secret_env
from infra.components.workload import Port, Workload, deployment, service
from labs.spec import LabSpec

PORT = 8080
UID = 10001


class ChapaSandbox(pulumi.ComponentResource):
    url: pulumi.Output[str]

    def __init__(self, name: str, spec: LabSpec, image: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:ChapaSandbox", name, None, opts)
        container = {
            "name": "chapa-sandbox",
            "image": image,
            # The sandbox reads its own CHAPA_SANDBOX_* names (labs/chapa_sandbox/__main__.py);
            # the webhook goes to the API Service, signed with the app's secret. The whole
            # command, not args: the image's CMD is the command (no ENTRYPOINT), so args alone
            # would replace it and the runtime would try to run `--host`.
            "command": ["python", "-m", "labs.chapa_sandbox"],
            "args": ["--host", "0.0.0.0", "--port", str(PORT),
                     "--public-url", f"http://{CHAPA_SANDBOX_SERVICE}.{spec.namespace}.svc",
                     "--webhook-url", f"http://api.{spec.namespace}.svc/api/payments/webhook/"],
            "ports": [{"name": "http", "container_port": PORT}],
            "env": [secret_env("CHAPA_SANDBOX_SECRET_KEY", APP_SECRET, "chapa-secret-key"),
                    secret_env("CHAPA_SANDBOX_WEBHOOK_SECRET", APP_SECRET,
                               "chapa-webhook-secret")],
            "resources": resources(spec.profile.components["chapa_sandbox"].resources),
            "security_context": restricted_context(UID, read_only_root=True),
            "readiness_probe": http_probe("/healthz", "http", delay=2),
            "liveness_probe": http_probe("/healthz", "http", delay=10, period=30),
        }
        child = pulumi.ResourceOptions(parent=self)
        self.service = service(spec, CHAPA_SANDBOX_SERVICE, "payments",
                               [Port("http", CHAPA_SANDBOX_PORT, PORT)], opts=child)
        self.deployment = deployment(
            spec, Workload(CHAPA_SANDBOX_SERVICE, "payments", [container], UID),
            replicas=1, opts=child)
        self.url = pulumi.Output.from_input(
            f"http://{CHAPA_SANDBOX_SERVICE}.{spec.namespace}.svc")
        self.register_outputs({"url": self.url})

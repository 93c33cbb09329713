"""Mailpit: the mail catcher the app sends to in the email lessons (SMTP 1025, web UI 8025)."""

from __future__ import annotations

import pulumi

from infra.components.app_env import MAILPIT_SERVICE, MAILPIT_SMTP_PORT
from infra.components.containers import http_probe, resources, restricted_context
from infra.components.workload import Port, Workload, deployment, service
from labs.spec import LabSpec

WEB_PORT = 8025
UID = 1000


class MailCatcher(pulumi.ComponentResource):
    web_url: pulumi.Output[str]

    def __init__(self, name: str, spec: LabSpec,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:MailCatcher", name, None, opts)
        container = {
            "name": "mailpit",
            "image": spec.images.mailpit,
            "ports": [{"name": "smtp", "container_port": MAILPIT_SMTP_PORT},
                      {"name": "http", "container_port": WEB_PORT}],
            # Chaos lets lesson 7's check refuse deliveries on demand (PUT /api/v1/chaos) to
            # see the worker retry; it is off until a client turns it on.
            # The database in the volume: the root filesystem is read-only, and Mailpit's
            # default is a temporary file under /tmp.
            "env": [{"name": "MP_DATABASE", "value": "/data/mailpit.db"},
                    {"name": "MP_MAX_MESSAGES", "value": "1000"},
                    {"name": "MP_ENABLE_CHAOS", "value": "true"}],
            "resources": resources(spec.profile.components["mailpit"].resources),
            "security_context": restricted_context(UID, read_only_root=True),
            "readiness_probe": http_probe("/readyz", "http", delay=2),
            "liveness_probe": http_probe("/livez", "http", delay=10, period=30),
            "volume_mounts": [{"name": "data", "mount_path": "/data"}],
        }
        workload = Workload(MAILPIT_SERVICE, "mail", [container], UID,
                            volumes=[{"name": "data", "empty_dir": {}}])
        child = pulumi.ResourceOptions(parent=self)
        self.service = service(spec, MAILPIT_SERVICE, "mail",
                               [Port("smtp", MAILPIT_SMTP_PORT), Port("http", WEB_PORT)],
                               opts=child)
        self.deployment = deployment(spec, workload, replicas=1, opts=child)
        self.web_url = pulumi.Output.from_input(
            f"http://{MAILPIT_SERVICE}.{spec.namespace}.svc:{WEB_PORT}")
        self.register_outputs({"webUrl": self.web_url})

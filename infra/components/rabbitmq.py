"""RabbitMQ with the management plugin: StatefulSet, Services and credentials Secret."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.containers import (
    resources,
    restricted_context,
    secret_env,
    tcp_probe,
)
from infra.components.workload import Port, Workload, metadata, service, statefulset
from labs.spec import LabSpec

SERVICE = "rabbitmq"
SECRET = "rabbitmq-credentials"
AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
USER = "app"
VHOST = "/"
UID = 999  # the official image's rabbitmq user
# No scheduler busy-waiting (idle schedulers spin on a shared host's CPUs), and management
# statistics every 30 s instead of 5 s: twenty idle brokers on a 2-core host (measured).
ERL_ARGS = "+sbwt none +sbwtdcpu none +sbwtdio none -rabbit collect_statistics_interval 30000"


class RabbitMQ(pulumi.ComponentResource):
    host: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, spec: LabSpec, password: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:RabbitMQ", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        size = spec.profile.components["rabbitmq"]
        self.secret = k8s.core.v1.Secret(
            f"{name}-credentials", metadata=metadata(spec, SECRET, "broker"), type="Opaque",
            string_data={"username": USER, "password": password}, opts=child)
        container = {
            "name": "rabbitmq",
            "image": spec.images.rabbitmq,
            "ports": [{"name": "amqp", "container_port": AMQP_PORT},
                      {"name": "management", "container_port": MANAGEMENT_PORT}],
            "env": [secret_env("RABBITMQ_DEFAULT_USER", SECRET, "username"),
                    secret_env("RABBITMQ_DEFAULT_PASS", SECRET, "password"),
                    {"name": "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "value": ERL_ARGS}],
            "resources": resources(size.resources),
            "security_context": restricted_context(UID),
            # Each rabbitmq-diagnostics call boots an Erlang VM (~0.5 CPU-s, measured): as a
            # 10 s readiness probe it cost an idle broker 90m CPU. Readiness is the AMQP port
            # accepting, liveness the management listener (both served by the broker's VM).
            "readiness_probe": tcp_probe("amqp", delay=5, period=10),
            "liveness_probe": tcp_probe("management", delay=60, period=30) | {
                "failure_threshold": 6, "timeout_seconds": 5},
        }
        workload = Workload(name="rabbitmq", component="broker", containers=[container],
                            uid=UID)
        ports = [Port("amqp", AMQP_PORT), Port("management", MANAGEMENT_PORT)]
        self.headless = service(spec, "rabbitmq", "broker", ports, headless=True,
                                service_name="rabbitmq-headless", opts=child)
        self.service = service(spec, "rabbitmq", "broker", ports, opts=child)
        self.statefulset = statefulset(
            spec, workload, service_name="rabbitmq-headless", volume="data",
            storage=size.storage or "1Gi", mount_path="/var/lib/rabbitmq",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret, self.headless]))
        self.host = pulumi.Output.from_input(SERVICE)
        self.secret_name = pulumi.Output.from_input(SECRET)
        self.register_outputs({"host": self.host, "secretName": self.secret_name})

"""Postgres: a StatefulSet with one claim, a headless Service and its credentials Secret."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.components.containers import exec_probe, resources, restricted_context, secret_env
from infra.components.workload import Port, Workload, metadata, service, statefulset
from labs.spec import LabSpec

SERVICE = "postgres"
SECRET = "postgres-credentials"
PORT = 5432
DATABASE = "app"
USER = "app"
UID = 999  # the official image's postgres user


class Postgres(pulumi.ComponentResource):
    host: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, spec: LabSpec, password: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        size = spec.profile.components["postgres"]
        self.secret = k8s.core.v1.Secret(
            f"{name}-credentials", metadata=metadata(spec, SECRET, "database"),
            type="Opaque",
            string_data={"username": USER, "password": password, "database": DATABASE},
            opts=child)
        ready = ["pg_isready", "-U", USER, "-d", DATABASE, "-h", "127.0.0.1"]
        container = {
            "name": "postgres",
            "image": spec.images.postgres,
            "ports": [{"name": "postgres", "container_port": PORT}],
            "env": [
                secret_env("POSTGRES_USER", SECRET, "username"),
                secret_env("POSTGRES_PASSWORD", SECRET, "password"),
                secret_env("POSTGRES_DB", SECRET, "database"),
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            ],
            "resources": resources(size.resources),
            "security_context": restricted_context(UID),
            "readiness_probe": exec_probe(ready, delay=5, period=10),
            "liveness_probe": exec_probe(ready, delay=30, period=20, failures=6),
            "volume_mounts": [{"name": "run", "mount_path": "/var/run/postgresql"}],
        }
        workload = Workload(name="postgres", component="database", containers=[container],
                            uid=UID, volumes=[{"name": "run", "empty_dir": {}}])
        self.service = service(spec, "postgres", "database", [Port("postgres", PORT)],
                               headless=True, opts=child)
        self.statefulset = statefulset(
            spec, workload, service_name=SERVICE, volume="data", storage=size.storage or "1Gi",
            mount_path="/var/lib/postgresql/data",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret, self.service]))
        self.host = pulumi.Output.from_input(SERVICE)
        self.secret_name = pulumi.Output.from_input(SECRET)
        self.register_outputs({"host": self.host, "secretName": self.secret_name})

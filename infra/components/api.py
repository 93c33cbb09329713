"""The sample Django API: migration Job, Deployment, Service, optional HPA and Ingress.

The migration Job runs (and must succeed) before the Deployment is updated, so a new version
never serves against an old schema. Its name carries a hash of the image so each new image
gets its own migration run.
"""

from __future__ import annotations

import hashlib
import json

import pulumi
import pulumi_kubernetes as k8s

from infra.components.app_env import app_env
from infra.components.containers import http_probe, resources, restricted_context
from infra.components.workload import (
    Port,
    Workload,
    deployment,
    metadata,
    pod_template,
    service,
)
from infra.labels import OWNED
from labs.spec import LabSpec

SERVICE = "api"
PORT = 8000
SERVICE_PORT = 80
UID = 10001  # the app image's non-root user (labs/app/Dockerfile)
PROBE_HOST = "localhost"  # one of the app's ALLOWED_HOSTS (infra/components/app_env.py)
# A stopping pod keeps serving this long: the ingress controller and kube-proxy drop it from
# their endpoints a moment after it starts terminating, and gunicorn closes its listener at
# SIGTERM, so without the wait a rollout fails the requests sent in between (seen on kind).
DRAIN_SECONDS = 5


def container(spec: LabSpec, image: pulumi.Input[str], name: str = "api") -> dict:
    """The app container as the API runs it; the Job and workers change its command."""
    return {
        "name": name,
        "image": image,
        "env": app_env(spec),
        "resources": resources(spec.profile.components["api"].resources),
        "security_context": restricted_context(UID, read_only_root=True),
        "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
    }


TMP_VOLUME = {"name": "tmp", "empty_dir": {"medium": "Memory", "size_limit": "64Mi"}}


class SampleApi(pulumi.ComponentResource):
    url: pulumi.Output[str]
    ingress_host: pulumi.Output[str | None]

    def __init__(self, name: str, spec: LabSpec, image: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:SampleApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = spec.lesson.api

        migrate = container(spec, image, "migrate")
        migrate["command"] = ["python", "manage.py", "migrate", "--noinput"]
        job_pod = pod_template(spec, Workload("api-migrate", "migration", [migrate], UID,
                                              volumes=[TMP_VOLUME]))
        job_pod["spec"]["restart_policy"] = "OnFailure"
        # Named by the image and the rest of its pod template: a Job's template is immutable,
        # so any change (image, env, resources) is a new Job, never a refused patch.
        template = json.dumps({k: v for k, v in migrate.items() if k != "image"},
                              sort_keys=True, default=str)
        job_name = pulumi.Output.from_input(image).apply(
            lambda ref: "api-migrate-"
            + hashlib.sha256(f"{ref}\n{template}".encode()).hexdigest()[:8])
        self.migration = k8s.batch.v1.Job(
            f"{name}-migrate",
            metadata={**metadata(spec, "api-migrate", "migration"), "name": job_name},
            spec={"backoff_limit": 6, "template": job_pod},
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True,
                                        replace_on_changes=["spec"]))

        api = container(spec, image)
        api |= {
            "ports": [{"name": "http", "container_port": PORT}],
            "readiness_probe": http_probe("/readyz", "http", delay=5, period=10, host=PROBE_HOST),
            "liveness_probe": http_probe("/healthz", "http", delay=15, period=20,
                                         host=PROBE_HOST),
            "startup_probe": http_probe("/healthz", "http", delay=2, period=3, failures=40,
                                        host=PROBE_HOST),
            "lifecycle": {"pre_stop": {"sleep": {"seconds": DRAIN_SECONDS}}},
        }
        self.service = service(spec, "api", "api", [Port("http", SERVICE_PORT, PORT)],
                               opts=child)
        workload = Workload("api", "api", [api], UID, volumes=[TMP_VOLUME],
                            internet=not spec.deploys("chapa_sandbox"))
        # An HPA owns the replica count; leaving it out of the Deployment avoids a fight.
        self.deployment = deployment(
            spec, workload, replicas=settings.replicas,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.migration],
                ignore_changes=["spec.replicas"] if settings.autoscale else None))

        self.hpa = None
        if settings.autoscale:
            self.hpa = autoscaler(spec, "api", settings.replicas, spec.profile.max_replicas,
                                  opts=pulumi.ResourceOptions(parent=self,
                                                              depends_on=[self.deployment]))
        self.ingress = None
        if settings.ingress:
            body: dict = {"rules": [{"host": spec.ingress_host, "http": {"paths": [{
                "path": "/", "path_type": "Prefix",
                "backend": {"service": {"name": SERVICE, "port": {"number": SERVICE_PORT}}},
            }]}}]}
            if spec.ingress_class:
                body["ingress_class_name"] = spec.ingress_class
            self.ingress = k8s.networking.v1.Ingress(
                f"{name}-ingress",
                # Not every controller publishes a load-balancer status; waiting for one
                # would hang `lab up`. `lab status` reports the route instead.
                metadata={**metadata(spec, "api", "api"),
                          "annotations": {**OWNED, "pulumi.com/skipAwait": "true"}},
                spec=body,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service]))

        self.url = pulumi.Output.from_input(
            f"http://{SERVICE}.{spec.namespace}.svc.cluster.local")
        self.ingress_host = pulumi.Output.from_input(
            spec.ingress_host if settings.ingress else None)
        self.register_outputs({"url": self.url, "ingressHost": self.ingress_host})


def autoscaler(spec: LabSpec, target: str, minimum: int, maximum: int,
               opts: pulumi.ResourceOptions) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    """CPU-based HPA (70% of requests) for a Deployment of this namespace."""
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{spec.namespace}-{target}-hpa",
        metadata=metadata(spec, target, "autoscaling"),
        spec={
            "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment",
                                 "name": target},
            "min_replicas": minimum,
            "max_replicas": maximum,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "average_utilization": 70}}}],
        },
        opts=opts,
    )

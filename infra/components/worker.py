"""Celery workers (and beat, where a lesson schedules work) running the sample app's image."""

from __future__ import annotations

import pulumi

from infra.components.api import TMP_VOLUME, UID, autoscaler, container
from infra.components.containers import exec_probe, resources
from infra.components.workload import Workload, deployment
from labs.app.envcontract import CELERY_APP
from labs.spec import LabSpec

# `inspect ping` asks the worker itself over the broker: alive *and* connected.
PING = ["sh", "-c", f"celery -A {CELERY_APP} inspect ping -d celery@$HOSTNAME --timeout 10"]


class CeleryWorkers(pulumi.ComponentResource):
    def __init__(self, name: str, spec: LabSpec, image: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:CeleryWorkers", name, None, opts)
        settings = spec.lesson.worker

        worker = container(spec, image, "worker")
        worker |= {
            # No gossip or mingle: workers of one namespace need not track each other, and
            # their broadcasts were most of an idle worker's CPU (measured on kind).
            "command": ["celery", "-A", CELERY_APP, "worker", "--loglevel=INFO",
                        "--concurrency=2", "--without-gossip", "--without-mingle"],
            "resources": resources(spec.profile.components["worker"].resources),
            # A ping boots the celery CLI (~0.3 CPU-s): rare once started. The kubelet's
            # first periodic probe comes a whole period after the start (a shorter initial
            # delay changes nothing), which kept a new worker unready for 60-90 s on kind
            # with a 60 s period; the startup probe pings every few seconds until the first
            # answer, and the kubelet runs the readiness probe as soon as it passes.
            "startup_probe": exec_probe(PING, delay=3, period=4, timeout=20, failures=45),
            "readiness_probe": exec_probe(PING, delay=0, period=120, timeout=20),
            "liveness_probe": exec_probe(PING, delay=0, period=300, timeout=20, failures=3),
        }
        self.worker = deployment(
            spec, Workload("worker", "worker", [worker], UID, volumes=[TMP_VOLUME]),
            replicas=settings.replicas,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["spec.replicas"] if settings.autoscale else None))
        self.hpa = None
        if settings.autoscale:
            self.hpa = autoscaler(spec, "worker", settings.replicas, spec.profile.max_replicas,
                                  opts=pulumi.ResourceOptions(parent=self,
                                                              depends_on=[self.worker]))

        self.beat = None
        if spec.deploys("beat"):
            beat = container(spec, image, "beat")
            schedule = "/tmp/celerybeat-schedule"
            beat |= {
                "command": ["celery", "-A", CELERY_APP, "beat", "--loglevel=INFO",
                            f"--schedule={schedule}"],
                "resources": resources(spec.profile.components["beat"].resources),
                # beat writes its schedule file once it has started ticking.
                "readiness_probe": exec_probe(["test", "-s", schedule], delay=10, period=20),
                "liveness_probe": exec_probe(["test", "-s", schedule], delay=60, period=60),
            }
            self.beat = deployment(
                spec, Workload("beat", "scheduler", [beat], UID, volumes=[TMP_VOLUME]),
                replicas=1, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})

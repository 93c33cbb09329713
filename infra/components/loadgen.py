"""In-cluster load generator: Locust as a Job inside the learner's namespace.

Plain manifests (camelCase dicts, no pulumi_kubernetes), so `invoke loadtest` can apply them
with the kubernetes client and delete them when the run is over:

- workers == 0: a ConfigMap with the locustfile and one Job running Locust headless;
- workers  > 0: the ConfigMap, a Service for the master's port 5557, a master Job (headless,
  `--expect-workers K`) and a worker Job of K parallel pods that connect to it. Both are Jobs,
  not Deployments: the master exits when the run time is up and tells the workers to quit, so
  every pod of the run terminates instead of being restarted.

Running inside the namespace avoids a port-forward bottleneck; the target is the API Service
(`http://api`, port 80). Pods run as Locust's image user with the restricted security context
and carry the design labels (infra/labels.py), so teardown and status select them like the rest.
labs/loadtest/incluster.py applies these objects, reads the results back and deletes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.labels import object_labels, selector
from labs.catalog import Resources
from labs.image_catalog import upstream
from labs.loadtest.scenarios import locustfile_source, user_classes
from labs.spec import LabSpec

COMPONENT = "loadgen"
IMAGE = upstream("loadgen")  # the offline stand-in: infra/images/offline.py
LOCUST_UID = 1000  # the `locust` user of the official image
MASTER_PORT = 5557
CONFIG_KEY = "locustfile.py"
MOUNT = "/mnt/locust"
CSV_DIR = "/tmp/locust"  # an emptyDir: the root filesystem is read-only
DEFAULT_TARGET = "http://api"  # the api Service listens on 80 (infra/components/api.py)
DEFAULT_RESOURCES = Resources(cpu_request="100m", memory_request="128Mi",
                              cpu_limit="1", memory_limit="512Mi")
SEEDED_DOMAIN = "seed.prodev.dev"  # the accounts of labs/app/core/management/commands/seed.py
SEED_CONTAINER = "seed"


@dataclass(frozen=True)
class Seed:
    """Seeding before Locust starts: a lab's database is empty, so every login would fail.

    `container` is the API Deployment's container as the cluster runs it (the learner's image,
    env, securityContext and resources, camelCase); it runs as the results pod's init container
    and seeds (`manage.py seed --reset <args>`) only when fewer than `users` seeded accounts
    exist, so repeated runs keep what earlier runs wrote.
    """

    container: Mapping[str, Any]
    args: tuple[str, ...]
    users: int

    def script(self) -> str:
        count = ("import sys; from accounts.models import User; sys.exit(0 if User.objects"
                 f".filter(email__endswith='@{SEEDED_DOMAIN}').count() >= {self.users} else 3)")
        return (f'python manage.py shell -c "{count}" && echo "seeded accounts are there" || '
                f"python manage.py seed --reset {' '.join(self.args)}")


@dataclass(frozen=True)
class LoadTest:
    """One in-cluster run: what `invoke loadtest` was asked for."""

    users: int = 20
    spawn_rate: float = 5
    duration_s: int = 60
    scenario: str = "mixed"
    target: str = DEFAULT_TARGET
    workers: int = 0
    run_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    image: str = IMAGE
    resources: Resources = DEFAULT_RESOURCES
    env: tuple[tuple[str, str], ...] = ()  # extra LOADTEST_* settings for the locustfile
    seed: Seed | None = None  # seed the database first (the results pod's init container)

    def __post_init__(self) -> None:
        user_classes(self.scenario)
        problems = []
        if not 1 <= self.users <= 2000:
            problems.append("users must be 1..2000")
        if self.spawn_rate <= 0:
            problems.append("spawn rate must be positive")
        if not 1 <= self.duration_s <= 3600:
            problems.append("duration must be 1..3600 s")
        if not 0 <= self.workers <= 10:
            problems.append("workers must be 0..10")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?", self.run_id):
            problems.append("run id must be 1..20 lowercase letters, digits or '-'")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def name(self) -> str:
        return f"loadtest-{self.run_id}"


def _meta(spec: LabSpec, name: str, role: str, run: LoadTest) -> dict[str, Any]:
    labels = object_labels(spec, name, COMPONENT)
    labels["labs.prodev.dev/loadtest"] = run.run_id
    labels["labs.prodev.dev/loadtest-role"] = role
    return {"name": name, "namespace": spec.namespace, "labels": labels}


def _security_context() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": LOCUST_UID, "runAsGroup": LOCUST_UID,
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def _seed_container(seed: Seed) -> dict[str, Any]:
    """The API's container with the seeding script, /tmp on the pod's scratch volume."""
    api = seed.container
    container: dict[str, Any] = {
        "name": SEED_CONTAINER, "image": api["image"], "command": ["sh", "-c", seed.script()],
        "securityContext": api.get("securityContext") or _security_context(),
        "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}]}
    for key in ("env", "envFrom", "resources", "imagePullPolicy"):
        if api.get(key):
            container[key] = api[key]
    return container


def _pod(spec: LabSpec, name: str, role: str, run: LoadTest, args: list[str], *,
         restart: str, ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    seeded = (("LOADTEST_SEEDED_USERS", str(run.seed.users)),) if run.seed else ()
    container: dict[str, Any] = {
        "name": "locust",
        "image": run.image,
        "args": args,
        "env": [{"name": k, "value": v} for k, v in
                (("HOME", "/tmp"), ("PYTHONUNBUFFERED", "1"),
                 ("PYTHONDONTWRITEBYTECODE", "1"), *seeded, *run.env)],
        "resources": run.resources.as_k8s(),
        "securityContext": _security_context(),
        "volumeMounts": [{"name": "locustfile", "mountPath": MOUNT, "readOnly": True},
                         {"name": "scratch", "mountPath": "/tmp"}],
    }
    if ports:
        container["ports"] = ports
    meta = _meta(spec, name, role, run)
    return {
        "metadata": {"labels": meta["labels"]},
        "spec": {
            "restartPolicy": restart,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": LOCUST_UID,
                                "runAsGroup": LOCUST_UID, "fsGroup": LOCUST_UID,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [{"name": "locustfile", "configMap": {"name": run.name}},
                        {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}}],
        },
    }


def _headless_args(run: LoadTest) -> list[str]:
    return ["-f", f"{MOUNT}/{CONFIG_KEY}", "--headless", "--host", run.target,
            "--users", str(run.users), "--spawn-rate", f"{run.spawn_rate:g}",
            "--run-time", f"{run.duration_s}s", "--stop-timeout", "5",
            "--csv", f"{CSV_DIR}/locust", "--csv-full-history", "--only-summary",
            "--exit-code-on-error", "0"]


def _job(spec: LabSpec, name: str, role: str, run: LoadTest, args: list[str],
         ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # The CSV files go to a scratch dir first: Locust writes them when it stops.
    script = ("mkdir -p " + CSV_DIR + " && locust " + " ".join(args)
              + f" ; rc=$? ; for f in {CSV_DIR}/*.csv; do echo \"=== $f\"; cat \"$f\"; done"
              + " ; exit $rc")
    pod = _pod(spec, name, role, run, ["-c", script], restart="Never", ports=ports)
    pod["spec"]["containers"][0]["command"] = ["/bin/sh"]
    if run.seed is not None:  # the results pod seeds; workers only wait for the master
        pod["spec"]["initContainers"] = [_seed_container(run.seed)]
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(spec, name, role, run),
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": run.duration_s + 300,
                 "ttlSecondsAfterFinished": 3600, "template": pod},
    }


def config_map(spec: LabSpec, run: LoadTest) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(spec, run.name, "config", run),
            "data": {CONFIG_KEY: locustfile_source()}}


def loadgen_manifests(spec: LabSpec, run: LoadTest) -> list[dict[str, Any]]:
    """The objects of one in-cluster load test, in apply order.

    The Job's log ends with the CSV files (`=== /tmp/locust/locust_stats.csv` and the file),
    which `invoke loadtest` reads back into reports/<learner>/<timestamp>/.
    """
    classes = list(user_classes(run.scenario))
    objects = [config_map(spec, run)]
    if run.workers == 0:
        objects.append(_job(spec, run.name, "standalone", run, _headless_args(run) + classes))
        return objects
    master = f"{run.name}-master"
    workers = f"{run.name}-worker"
    master_args = [*_headless_args(run), "--master", "--master-bind-port", str(MASTER_PORT),
                   "--expect-workers", str(run.workers), "--expect-workers-max-wait", "120",
                   *classes]
    objects.append({
        "apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, master, "master", run),
        "spec": {"selector": selector(master),
                 "ports": [{"name": "locust", "port": MASTER_PORT, "targetPort": MASTER_PORT}]},
    })
    objects.append(_job(spec, master, "master", run, master_args,
                        ports=[{"name": "locust", "containerPort": MASTER_PORT}]))
    worker_pod = _pod(spec, workers, "worker", run,
                      ["-f", f"{MOUNT}/{CONFIG_KEY}", "--worker", "--master-host", master,
                       "--master-port", str(MASTER_PORT), *classes], restart="OnFailure")
    objects.append({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(spec, workers, "worker", run),
        # Workers exit when the master tells them the run is over: the Job then completes.
        "spec": {"parallelism": run.workers, "completions": run.workers, "backoffLimit": 3,
                 "activeDeadlineSeconds": run.duration_s + 300,
                 "ttlSecondsAfterFinished": 3600, "template": worker_pod},
    })
    return objects


def selector_for(run_id: str) -> str:
    """Label selector of one run's objects (to delete them when the run is over)."""
    return f"labs.prodev.dev/loadtest={run_id}"

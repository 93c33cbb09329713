"""Render a learner's environment to Kubernetes manifests without a cluster or the Pulumi CLI.

The real program runs under Pulumi's mock runtime; every Kubernetes resource it registers is
captured with its inputs, which are exactly the object Pulumi would send to the API server.
Secret values are placeholders: real ones are generated only by `lab up`.
"""

from __future__ import annotations

import threading
from typing import Any

import pulumi
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.environment import LabEnvironment
from labs.secrets import GENERATED, GITHUB_RUNNER_TOKEN
from labs.spec import LabSpec

PLACEHOLDER = "generated-by-lab-up"
# Pulumi marks secret values in serialized inputs with this signature key.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_lock = threading.Lock()  # the mock runtime is process-global


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.typ.startswith("kubernetes:"):
            obj = _plain(args.inputs)
            # kubectl's field order: apiVersion, kind, metadata, then the rest.
            head = {k: obj.pop(k) for k in ("apiVersion", "kind", "metadata") if k in obj}
            self.objects.append(head | obj)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def _plain(value: Any) -> Any:
    """Unwrap secret markers and turn whole floats (the wire format's numbers) into ints."""
    if isinstance(value, dict):
        if _SECRET_SIG in value:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def placeholder_secrets(spec: LabSpec) -> dict[str, pulumi.Output[str]]:
    keys = [s.key for s in GENERATED] + [GITHUB_RUNNER_TOKEN]
    return {key: pulumi.Output.secret(PLACEHOLDER) for key in keys}


def render(spec: LabSpec) -> list[dict[str, Any]]:
    """Every Kubernetes object of the learner's environment, in apply order."""
    with _lock:
        recorder = _Recorder()
        pulumi.runtime.set_mocks(recorder, project="prodev-labs", stack=spec.stack_name,
                                 preview=False)
        pulumi.runtime.settings.SETTINGS.rpc_manager.clear()
        pulumi.runtime.settings.SETTINGS.outputs.clear()
        _sync_await(run_pulumi_func(lambda: LabEnvironment(spec, placeholder_secrets(spec))))
        return sorted(recorder.objects, key=_order)


# Apply order, as kubectl and Helm use it: guardrails first, then config, then workloads.
KIND_ORDER = ("Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "ServiceAccount",
              "Role", "RoleBinding", "Secret", "ConfigMap", "Service", "StatefulSet", "Job",
              "Deployment", "HorizontalPodAutoscaler", "Ingress")


def _order(obj: dict[str, Any]) -> tuple[int, str]:
    kind = obj.get("kind", "")
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, obj.get("metadata", {}).get("name", "")


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)

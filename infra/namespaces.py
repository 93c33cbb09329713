"""Deleting learner namespaces and waiting until the namespace controller has emptied them."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.labels import COHORT, LEARNER
from labs.spec import LabSpec


def delete(core: client.CoreV1Api, name: str) -> bool:
    """Ask for the namespace's deletion; False when it does not exist.

    Its pods are deleted at once (grace period 0) once the namespace is terminating, so no
    new one can start: the namespace controller otherwise waits out each pod's grace period
    (30 s) before it looks again, and the environment is thrown away anyway."""
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    try:
        core.delete_collection_namespaced_pod(name, grace_period_seconds=0)
    except ApiException as exc:
        if exc.status not in (403, 404):
            raise
    return True


def wait_gone(core: client.CoreV1Api, names: Iterable[str], timeout: float) -> set[str]:
    """Wait until none of `names` exists; returns those still there after `timeout`."""
    waiting = set(names)
    deadline = time.monotonic() + timeout
    while waiting:
        waiting &= {n.metadata.name for n in core.list_namespace().items}
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    return waiting


def owned_by(core: client.CoreV1Api, spec: LabSpec) -> bool:
    """Whether the learner's namespace exists and carries this learner's labels."""
    try:
        ns = core.read_namespace(spec.namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    labels = ns.metadata.labels or {}
    return labels.get(COHORT) == spec.cohort and labels.get(LEARNER) == spec.learner

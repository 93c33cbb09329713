"""Reach one learner's namespace on the chosen cluster, or say plainly why it cannot be reached.

Commands that act on a running lab (`lab scale`, `invoke loadtest`) start no cluster: with no
--context they use the running local one (infra.cluster.target.choose(start=False)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.config import ConfigException

from infra.automation import ClusterTarget
from infra.cluster.sim import KWOK_NODE_ANNOTATION
from infra.cluster.target import NoClusterError, choose
from infra.kubeconfig import admin_client
from infra.labels import LESSON


class LearnerClusterError(RuntimeError):
    """No cluster, the cluster does not answer, or the learner's namespace is missing."""


@dataclass(frozen=True)
class LearnerCluster:
    api: client.ApiClient
    namespace: str
    target: ClusterTarget
    reason: str  # which cluster and why (infra.cluster.target.Choice.reason)
    lesson: int | None  # the namespace's labs.prodev.dev/lesson label: what `lab up` built


def connect(namespace: str, context: str | None, *,
            choose_target: Any = choose) -> LearnerCluster:
    """The admin client of the cluster holding `namespace`; LearnerClusterError otherwise."""
    try:
        choice = choose_target(context, start=False)
        api = admin_client(choice.target.kubeconfig, choice.target.context)
    except (NoClusterError, ConfigException, OSError) as exc:
        raise LearnerClusterError(f"no cluster: {exc}") from None
    try:
        ns = client.CoreV1Api(api).read_namespace(namespace, _request_timeout=15)
    except ApiException as exc:
        if exc.status == 404:
            raise LearnerClusterError(
                f"namespace {namespace} does not exist on {choice.reason}: the lab is not up "
                f"(`invoke lab up --lesson N` creates it)") from None
        raise LearnerClusterError(f"the cluster refused to read namespace {namespace}: "
                                  f"{exc.status} {exc.reason}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise LearnerClusterError(f"the cluster does not answer ({choice.reason}): "
                                  f"{exc}") from None
    if ns.status and ns.status.phase == "Terminating":
        raise LearnerClusterError(f"namespace {namespace} is being deleted: the lab is going "
                                  "down; `invoke lab up --lesson N` brings it back")
    label = (ns.metadata.labels or {}).get(LESSON, "")
    return LearnerCluster(api=api, namespace=namespace, target=choice.target,
                          reason=choice.reason, lesson=int(label) if label.isdigit() else None)


def is_simulated_node(node: Any) -> bool:
    """A kwok node of the simulated cluster (its kubelet is fake: no container ever runs)."""
    meta = node.metadata
    return ((meta.annotations or {}).get(KWOK_NODE_ANNOTATION) == "fake"
            or (meta.labels or {}).get("type") == "kwok")

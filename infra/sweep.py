"""`cohort down` without an engine run per learner: delete the namespaces, then the stacks.

Everything a lesson creates lives in the learner's namespace (tests/infra/test_render.py
checks every lesson), so deleting the namespace deletes all of it: the namespace controller
does in bulk what `pulumi destroy` does object by object, with a provider process and a
deletion await per object, for every learner. Each stack's checkpoint is read first; a stack
that holds anything else (another namespace's object, a cluster-scoped one, an image build)
is left to the engine. Once a namespace is gone, `pulumi stack rm --force` forgets its stack.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from infra import namespaces, stack_files
from infra.automation import ClusterTarget, LearnerStack, clear_stale_locks
from infra.kubeconfig import admin_client

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
# resource types that are bookkeeping, not cluster objects
NOT_OBJECTS = ("pulumi:pulumi:Stack", "pulumi:providers:")
TIMEOUT = 600.0


def sweepable(stack: LearnerStack) -> bool:
    """Whether every object the stack records is the learner's namespace or inside it."""
    recorded = _resources(stack)
    if recorded is None:
        return False
    ns = stack.spec.namespace
    for res in recorded:
        kind = res.get("type", "")
        if not res.get("custom", True) or kind.startswith(NOT_OBJECTS):
            continue  # component resources and providers own no object of their own
        if not kind.startswith("kubernetes:"):
            return False
        meta = (res.get("outputs") or {}).get("metadata") or {}
        if kind == NAMESPACE_TYPE and meta.get("name") == ns:
            continue
        if meta.get("namespace") != ns:
            return False
    return True


def _resources(stack: LearnerStack) -> list[dict[str, Any]] | None:
    if stack.exists() is False:
        return []
    path = stack._checkpoint()  # noqa: SLF001 - same package, file backends only
    found = stack_files.resources(path) if path else None
    if found is None:
        try:
            found = list((stack.stack.export_stack().deployment or {}).get("resources") or [])
        except Exception:  # noqa: BLE001 - then the engine destroys it
            return None
    return found


def sweep(stacks: Sequence[LearnerStack], target: ClusterTarget,
          on_state: Callable[[str, str, str], None], parallel: int = 4,
          timeout: float = TIMEOUT) -> dict:
    """Remove every sweepable learner; returns their LearnerResult by learner. The others
    are not touched (the caller destroys them)."""
    from infra.cohort import DONE, FAILED, WORKING, LearnerResult

    started = time.monotonic()
    chosen = [s for s in stacks if sweepable(s)]
    if not chosen:
        return {}
    core = client.CoreV1Api(admin_client(target.kubeconfig, target.context))
    errors: dict[str, str] = {}
    for stack in chosen:
        on_state(stack.spec.learner, WORKING, "deleting namespace")
        try:
            namespaces.delete(core, stack.spec.namespace)
        except ApiException as exc:
            errors[stack.spec.learner] = f"deleting namespace: {exc.reason}"
    waiting = namespaces.wait_gone(
        core, {s.spec.namespace for s in chosen if s.spec.learner not in errors}, timeout)
    for stack in chosen:
        if stack.spec.namespace in waiting:
            errors[stack.spec.learner] = (f"namespace {stack.spec.namespace} still terminating "
                                          f"after {timeout:.0f}s")

    def forget(stack: LearnerStack) -> LearnerResult:
        spec = stack.spec
        error = errors.get(spec.learner)
        if error is None:
            try:
                clear_stale_locks(stack.engine.paths, spec.stack_name)  # a killed run's
                if stack.exists() is not False:
                    stack.workspace.remove_stack(spec.stack_name, force=True)
                shutil.rmtree(stack.work_dir, ignore_errors=True)
            except Exception as exc:  # noqa: BLE001 - reported per learner
                error = str(exc).strip() or repr(exc)
        seconds = time.monotonic() - started
        if error:
            on_state(spec.learner, FAILED, error.splitlines()[-1])
            return LearnerResult(spec.learner, spec.namespace, False, seconds, error=error)
        on_state(spec.learner, DONE, f"namespace deleted ({seconds:.0f}s)")
        return LearnerResult(spec.learner, spec.namespace, True, seconds)

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="learner") as pool:
        return {r.learner: r for r in pool.map(forget, chosen)}

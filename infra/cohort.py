"""Run one operation over many learner stacks in a bounded pool.

Each learner has a stack and a workspace directory of its own (Pulumi's create/select is not
safe in one shared workspace, pulumi/pulumi#8186). Plugins come from the toolchain, installed
once before the fan-out (concurrent installs race, pulumi/pulumi#22784). One learner's failure
never stops the others; the results say who failed and why. The run owns every process it
starts (infra.reaper): a signal stops them, and none outlives the run.

`down` removes a learner whose stack holds nothing outside its namespace by deleting the
namespace (the namespace controller deletes its contents) and then the stack, without an
engine run; any other stack is destroyed by the engine as `lab down` does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from infra import reaper
from infra.automation import ClusterTarget, Engine, LearnerStack, ensure_passphrase
from infra.environment import preload_resource_types
from labs.spec import LabSpec

# Learner states, in the order a run moves through them.
QUEUED, WORKING, DONE, FAILED = "queued", "working", "done", "failed"

# The engine rewrites a learner's whole state file (and its backup) after every step of an
# update: 0.3 of its 1.0 CPU-seconds for lesson 4. A cohort run writes it once, at the end.
# Nothing a re-run needs is lost: the state stays consistent (the previous one, if the run is
# killed), objects created meanwhile are adopted by the next update (server-side apply
# upserts, patchForce), and `down` deletes the learner's namespace whatever its state records.
COHORT_ENV = {"PULUMI_SKIP_CHECKPOINTS": "true"}

# Memory one learner's update holds while it runs: the pulumi CLI and the Kubernetes provider
# (peak RSS measured here, lesson 4: 123 MB + 155 MB).
MEMORY_PER_LEARNER = 288 * 2**20


@dataclass(frozen=True)
class LearnerResult:
    learner: str
    namespace: str
    ok: bool
    seconds: float
    changes: dict[str, int] = field(default_factory=dict)
    error: str | None = None


StateCallback = Callable[[str, str, str], None]  # learner, state, detail


def default_parallel(learners: int, cores: int | None = None,
                     available_memory: int | None = None) -> int:
    """The pool for this machine. A learner's update mostly waits (on the API server and on
    rollouts), so several per core keep the CPU busy; memory bounds it."""
    cores = cores or os.cpu_count() or 1
    available_memory = available_memory if available_memory is not None else _available()
    by_memory = max(1, int(available_memory * 0.5) // MEMORY_PER_LEARNER)
    return max(1, min(learners, 6 * cores, by_memory))


def _available() -> int:
    try:
        for line in open("/proc/meminfo").read().splitlines():  # noqa: SIM115 - tiny read
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 2**30


def _up(stack: LearnerStack) -> dict[str, int]:
    result = stack.up()
    return dict(result.summary.resource_changes or {})


def _down(stack: LearnerStack) -> dict[str, int]:
    stack.destroy()
    return {}


OPERATIONS: dict[str, Callable[[LearnerStack], dict[str, int]]] = {"up": _up, "down": _down}


def run(operation: str, specs: Sequence[LabSpec], target: ClusterTarget, engine: Engine, *,
        parallel: int | None = None, on_state: StateCallback | None = None
        ) -> list[LearnerResult]:
    """Apply `operation` ("up" or "down") to every learner, at most `parallel` at a time
    (default: default_parallel)."""
    work = OPERATIONS[operation]
    report = on_state or (lambda *_: None)
    if operation == "up":
        engine = replace(engine, env={**engine.env, **COHORT_ENV})
    with reaper.guard():
        preload_resource_types()
        ensure_passphrase(engine.paths)  # once, before the threads that all need it
        for spec in specs:
            report(spec.learner, QUEUED, "")
        stacks = [LearnerStack(spec, target, engine) for spec in specs]
        if operation == "down":
            from infra.sweep import sweep

            swept = sweep(stacks, target, on_state=report,
                          parallel=parallel or default_parallel(len(stacks)))
            stacks = [s for s in stacks if s.spec.learner not in swept]
        else:
            swept = {}

        def one(stack: LearnerStack) -> LearnerResult:
            spec = stack.spec
            report(spec.learner, WORKING, "")
            started = time.monotonic()
            try:
                changes = work(stack)
            except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the pool
                message = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
                report(spec.learner, FAILED, message)
                return LearnerResult(spec.learner, spec.namespace, False,
                                     time.monotonic() - started, error=str(exc))
            seconds = time.monotonic() - started
            report(spec.learner, DONE, _describe(changes, seconds))
            return LearnerResult(spec.learner, spec.namespace, True, seconds, changes)

        size = parallel or default_parallel(len(stacks))
        pool = ThreadPoolExecutor(max_workers=max(1, size), thread_name_prefix="learner")
        futures: list[Future[LearnerResult]] = [pool.submit(one, s) for s in stacks]
        try:
            done = {f.result().learner: f.result() for f in futures}
        except BaseException:
            # a stop signal: queued learners never start, running ones fail fast
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        by_learner = {**swept, **done}
        return [by_learner[spec.learner] for spec in specs]


def _describe(changes: dict[str, Any], seconds: float) -> str:
    moved = {k: v for k, v in changes.items() if k != "same"}
    summary = ", ".join(f"{k} {v}" for k, v in sorted(moved.items())) or "no changes"
    return f"{summary} ({seconds:.0f}s)"

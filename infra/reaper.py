"""No process a run starts outlives it: the pulumi CLIs and, above all, their plugins.

The pulumi CLI starts each plugin (the Kubernetes provider) in a process group of its own, so
a signal to the run's group never reaches it, and a CLI killed outright (SIGKILL, OOM) leaves
its provider running under init for good. Every pulumi process of a run therefore carries a
mark in its environment, `PRODEV_LABS_RUN=<pid>:<start>` naming the Python process that owns
the run (plugins inherit the CLI's environment):

  - `guard()` (around a cohort run or one learner's update, in the main thread) turns SIGTERM,
    SIGHUP and SIGINT into a bounded stop: SIGINT to the run's CLIs (the engine cancels and
    shuts its plugins down), SIGKILL for whatever of the run is left after a grace period,
    then the signal's usual outcome. On the way out it reaps anything of the run still alive.
  - `reap_orphans()` (as guard() starts) kills marked processes whose owner is gone: what a
    SIGKILLed run left behind. Another live run's processes are never touched.
Both read /proc (Linux); elsewhere they find nothing to do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from infra import processes

MARK = "PRODEV_LABS_RUN"
GRACE = 5.0  # seconds the engine gets for each polite step before the next, firmer one
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

_guard_depth = 0
_stopping = threading.Event()


class RunStopped(RuntimeError):
    """The run was told to stop (SIGTERM, SIGHUP, SIGINT): start no new pulumi process."""


def raise_if_stopping() -> None:
    """Called before each pulumi process: none starts once the run is stopping."""
    if _stopping.is_set():
        raise RunStopped("the run is stopping")


def run_mark() -> str:
    """This process's mark: what its pulumi CLIs and their plugins carry."""
    return processes.identity(os.getpid()) or f"{os.getpid()}:0"


def marked(owner: str | None = None) -> list[processes.Proc]:
    """Live processes carrying a run mark (only `owner`'s when given), never this one."""
    me = os.getpid()
    found = []
    for pid in processes.pids():
        if pid == me:
            continue
        mark = processes.environ(pid, MARK)
        if mark is None or (owner is not None and mark != owner):
            continue
        proc = processes.read(pid)
        if proc is not None and proc.alive:
            found.append(proc)
    return found


def orphans() -> list[processes.Proc]:
    """Marked processes whose owning run is gone."""
    return [p for p in marked() if not processes.is_alive(processes.environ(p.pid, MARK) or "")]


def reap_orphans() -> list[processes.Proc]:
    """Kill what dead runs left (a SIGKILLed `cohort up`'s providers); returns them."""
    left = orphans()
    _kill([p.pid for p in left], signal.SIGTERM, GRACE)
    return left


def stop_own(grace: float = GRACE) -> None:
    """Stop this run's processes: SIGINT to the CLIs (a graceful cancel), again (the engine's
    forced stop, which still shuts its plugins down), then SIGKILL for anything left."""
    mine = run_mark()
    for step in (signal.SIGINT, signal.SIGINT):
        clis = [p.pid for p in marked(mine) if p.name == "pulumi"]
        if not clis:
            break
        _kill(clis, step, grace)
    _kill([p.pid for p in marked(mine)], signal.SIGKILL, grace)


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Around a run: reap dead runs' leftovers first; stop this run's processes on SIGTERM,
    SIGHUP or SIGINT; and leave none of them behind on the way out, however it ends.

    Signal handlers belong to the main thread: elsewhere (a pool worker), and inside an
    outer guard(), this does nothing; the outer one covers it."""
    global _guard_depth
    outermost = threading.current_thread() is threading.main_thread() and _guard_depth == 0
    if not outermost:
        yield
        return
    reap_orphans()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def stop(signum: int, frame: FrameType | None) -> None:
        for sig in STOP_SIGNALS:  # a second signal must not re-enter the stop
            signal.signal(sig, signal.SIG_IGN)
        _stopping.set()
        stop_own()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    _guard_depth += 1
    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _guard_depth -= 1
        stop_own(grace=1.0)  # normally nothing is left: this is the net, not the path
        _stopping.clear()


def _kill(pids: list[int], sig: int, grace: float) -> None:
    """Send `sig` to each pid, then wait up to `grace` seconds for all of them to exit."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not any(_running(pid) for pid in pids):
            return
        time.sleep(0.05)


def _running(pid: int) -> bool:
    proc = processes.read(pid)
    return proc is not None and proc.alive

"""Processes a run starts carry its mark; a dead run's are reaped, a live run's never."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from infra import processes, reaper

pytestmark = pytest.mark.unit


def sleeper(mark: str) -> subprocess.Popen:
    """A stand-in for a provider plugin: its own process group, the run mark in its env."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            env={**os.environ, reaper.MARK: mark}, start_new_session=True)


def wait_gone(proc: subprocess.Popen, seconds: float = 10) -> bool:
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_this_process_is_named_by_pid_and_start_time() -> None:
    me = processes.read(os.getpid())
    assert me is not None and me.alive and me.ppid == os.getppid()
    assert reaper.run_mark() == f"{os.getpid()}:{me.start}"
    assert processes.is_alive(reaper.run_mark())
    assert not processes.is_alive(f"{os.getpid()}:{me.start + 1}")  # a reused pid
    assert not processes.is_alive("garbage")


def test_a_dead_runs_processes_are_reaped_a_live_runs_are_not() -> None:
    orphan = sleeper(f"{2**22 + 7}:1")  # no such owner: its run is gone
    mine = sleeper(reaper.run_mark())
    try:
        time.sleep(0.2)
        assert orphan.pid in {p.pid for p in reaper.orphans()}
        reaped = reaper.reap_orphans()
        assert orphan.pid in {p.pid for p in reaped}
        assert wait_gone(orphan)
        assert mine.poll() is None, "a live run's process was killed"
    finally:
        for proc in (orphan, mine):
            proc.kill()
            proc.wait()


def test_stop_own_leaves_none_of_this_runs_processes() -> None:
    other_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    others = sleeper(processes.identity(other_owner.pid) or "x")
    mine = [sleeper(reaper.run_mark()) for _ in range(2)]
    try:
        time.sleep(0.2)
        assert {p.pid for p in mine} <= {p.pid for p in reaper.marked(reaper.run_mark())}
        reaper.stop_own(grace=2)
        assert all(wait_gone(p) for p in mine)
        assert others.poll() is None, "another live run's process was killed"
    finally:
        for proc in (*mine, others, other_owner):
            proc.kill()
            proc.wait()


def test_guard_restores_signal_handlers_and_stops_nothing_on_a_normal_exit() -> None:
    import signal

    before = {s: signal.getsignal(s) for s in reaper.STOP_SIGNALS}
    with reaper.guard():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
        reaper.raise_if_stopping()
    assert {s: signal.getsignal(s) for s in reaper.STOP_SIGNALS} == before

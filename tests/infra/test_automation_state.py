"""State handling of learner stacks: passphrase file, backend URL, locks."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from infra.automation import (
    StackLockedError,
    StatePaths,
    backend_url,
    clear_stale_locks,
    ensure_passphrase,
)


def test_passphrase_is_generated_once_and_private(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    first = ensure_passphrase(paths).read_text()
    assert len(first) >= 32
    assert stat.S_IMODE(paths.passphrase_file.stat().st_mode) == 0o600
    assert ensure_passphrase(paths).read_text() == first


def test_backend_is_local_unless_pulumi_backend_url(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert backend_url(StatePaths(tmp_path)) == f"file://{tmp_path / 'pulumi-state'}"
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://class-state")
    assert backend_url(StatePaths(tmp_path)) == "s3://class-state"


def write_lock(paths: StatePaths, stack: str, pid: int) -> Path:
    lock = paths.backend_dir / ".pulumi" / "locks" / "organization" / "prodev-labs" / stack
    lock.mkdir(parents=True)
    path = lock / "abc.json"
    path.write_text(json.dumps({"pid": pid, "username": "instructor",
                                "hostname": socket.gethostname(),
                                "timestamp": "2026-11-28T09:00:00Z"}))
    return path


def test_a_live_lock_holder_is_named(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    write_lock(paths, "c1-abebe", os.getpid())
    with pytest.raises(StackLockedError) as info:
        clear_stale_locks(paths, "c1-abebe")
    message = str(info.value)
    assert "c1-abebe" in message and "instructor@" in message and str(os.getpid()) in message


def test_a_dead_processs_lock_is_dropped_so_the_update_resumes(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    dead = 2**22 + 12345  # above pid_max on Linux: no such process
    lock = write_lock(paths, "c1-abebe", dead)
    clear_stale_locks(paths, "c1-abebe")
    assert not lock.exists()


def test_concurrent_first_use_agrees_on_one_passphrase(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = StatePaths(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        texts = set(pool.map(lambda _: ensure_passphrase(paths).read_text(), range(16)))
    assert len(texts) == 1 and len(texts.pop()) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["passphrase"]


def test_a_killed_holder_not_yet_reaped_holds_no_lock(tmp_path: Path) -> None:
    """A CLI killed with its parent stays a zombie until init reaps it: its lock is stale."""
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGKILL)
        time.sleep(0.3)  # not waited for: a zombie
        paths = StatePaths(tmp_path)
        lock = write_lock(paths, "c1-abebe", child.pid)
        clear_stale_locks(paths, "c1-abebe")
        assert not lock.exists()
    finally:
        child.wait()

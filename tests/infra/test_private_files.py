"""Files made once, owner-only: the passphrase and the shared salt depend on it."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from infra.private_files import create_once

pytestmark = pytest.mark.unit


def test_made_once_owner_only_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "state" / "passphrase"
    create_once(path, lambda: "first")
    create_once(path, lambda: "second")
    assert path.read_text() == "first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["passphrase"]  # no temporary left


def test_concurrent_first_runs_agree(tmp_path: Path) -> None:
    path = tmp_path / "salt"
    threads = [threading.Thread(target=create_once, args=(path, lambda i=i: f"v{i}"))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert path.read_text() in {f"v{i}" for i in range(8)}
    assert [p.name for p in tmp_path.iterdir()] == ["salt"]

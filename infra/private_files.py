"""Files made once and readable by their owner only (the passphrase, the shared salt)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def create_once(path: Path, content: Callable[[], str]) -> None:
    """Create ``path`` (0600) holding ``content()`` unless it exists. Written under a temporary
    name and linked into place: whoever links first wins (concurrent first runs agree), and
    nobody ever reads a half-written file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}-{os.getpid()}-{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()

"""What a learner's stack holds, read from its files instead of asking a pulumi process.

Each `pulumi` CLI invocation costs 0.15-0.35 CPU-seconds (a 120 MB Go binary starting, and
PBKDF2 with 1,000,000 rounds whenever it opens the passphrase secrets manager). Three of the
questions a cohort asks per learner need none of that:
  - does the stack exist? (the local file backend keeps `<stack>.json` per stack)
  - did an interrupted update leave pending operations? (the same file)
  - which config does the workspace hold? (`Pulumi.<stack>.yaml`; secrets stay ciphertext)
Anything else (another backend, an unreadable file) answers None: the caller asks the CLI.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml


def local_backend_dir(url: str) -> Path | None:
    """The directory of a `file://` backend URL; None for any other backend."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path)).expanduser()


def checkpoint_path(backend: Path, project: str, stack: str) -> Path | None:
    """The stack's checkpoint in a file backend (project-scoped or legacy layout), if any."""
    stacks = backend / ".pulumi" / "stacks"
    for base in (stacks / project, stacks):
        for name in (f"{stack}.json", f"{stack}.json.gz"):
            if (base / name).is_file():
                return base / name
    return None


def read_checkpoint(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (OSError, ValueError):
        return None


def pending_operations(path: Path) -> int | None:
    """How many operations an interrupted update left unfinished; None if unreadable."""
    doc = read_checkpoint(path)
    if doc is None:
        return None
    latest = (doc.get("checkpoint") or {}).get("latest") or {}
    return len(latest.get("pending_operations") or [])


def resources(path: Path) -> list[dict[str, Any]] | None:
    """The resources the stack's last checkpoint records; None if unreadable."""
    doc = read_checkpoint(path)
    if doc is None:
        return None
    latest = (doc.get("checkpoint") or {}).get("latest") or {}
    return list(latest.get("resources") or [])


def settings_path(work_dir: Path, stack: str) -> Path:
    return work_dir / f"Pulumi.{stack}.yaml"


def read_settings(work_dir: Path, stack: str) -> dict[str, Any]:
    """The workspace's `Pulumi.<stack>.yaml` (encryptionsalt, config, ...); {} if none."""
    try:
        doc = yaml.safe_load(settings_path(work_dir, stack).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_settings(work_dir: Path, stack: str, doc: dict[str, Any]) -> None:
    """Replace the stack settings file in one step (a reader never sees half of it)."""
    path = settings_path(work_dir, stack)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
    tmp.replace(path)


def workspace_config(work_dir: Path, stack: str) -> dict[str, Any]:
    """The config in the workspace's `Pulumi.<stack>.yaml`: plain values as text, secrets as
    `{"secure": ciphertext}`; empty when there is no such file yet."""
    config = read_settings(work_dir, stack).get("config") or {}
    return {k: v if isinstance(v, dict) else str(v) for k, v in config.items()}

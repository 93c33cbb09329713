"""What a learner's stack holds, read from its files; the engine's summary from its event log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from infra import engine_run, stack_files

pytestmark = pytest.mark.unit


def checkpoint(resources: list[dict], pending: list | None = None) -> dict:
    return {"version": 3, "checkpoint": {"stack": "organization/prodev-labs/c1-ana",
                                         "latest": {"resources": resources,
                                                    "pending_operations": pending}}}


def test_only_file_backends_are_read() -> None:
    assert stack_files.local_backend_dir("file:///srv/state") == Path("/srv/state")
    assert stack_files.local_backend_dir("file://~/state") is not None
    assert stack_files.local_backend_dir("s3://class-state") is None


def test_checkpoint_layouts_and_pending_operations(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks"
    assert stack_files.checkpoint_path(tmp_path, "prodev-labs", "c1-ana") is None
    (stacks / "prodev-labs").mkdir(parents=True)
    scoped = stacks / "prodev-labs" / "c1-ana.json"
    scoped.write_text(json.dumps(checkpoint([], [{"type": "creating"}])))
    assert stack_files.checkpoint_path(tmp_path, "prodev-labs", "c1-ana") == scoped
    assert stack_files.pending_operations(scoped) == 1
    legacy = stacks / "c1-ben.json.gz"
    legacy.write_bytes(gzip.compress(json.dumps(checkpoint([])).encode()))
    assert stack_files.checkpoint_path(tmp_path, "prodev-labs", "c1-ben") == legacy
    assert stack_files.pending_operations(legacy) == 0
    scoped.write_text("{half")
    assert stack_files.pending_operations(scoped) is None


def test_workspace_config_keeps_secrets_as_ciphertext(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.c1-ana.yaml").write_text(
        "encryptionsalt: v1:abc\nconfig:\n  prodev-labs:lesson: \"4\"\n"
        "  prodev-labs:postgresPassword:\n    secure: v1:xyz\n")
    assert stack_files.workspace_config(tmp_path, "c1-ana") == {
        "prodev-labs:lesson": "4", "prodev-labs:postgresPassword": {"secure": "v1:xyz"}}
    assert stack_files.workspace_config(tmp_path, "c1-none") == {}


def test_summary_is_the_last_summary_event(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(json.dumps(e) for e in (
        {"sequence": 1, "preludeEvent": {"config": {}}},
        {"sequence": 9, "summaryEvent": {"resourceChanges": {"create": 27},
                                         "durationSeconds": 12}},
    )) + "\n")
    summary = engine_run.summary_from(log)
    assert summary.resource_changes == {"create": 27} and summary.duration_seconds == 12
    assert engine_run.summary_from(tmp_path / "missing").resource_changes == {}


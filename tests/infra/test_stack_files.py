"""What a learner's stack holds, read from its files; the engine's summary from its event log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from infra import engine_run, stack_files
from infra.automation import ClusterTarget, Engine, LearnerStack, StatePaths
from infra.sweep import sweepable
from labs.spec import build_spec

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


def learner(tmp_path: Path, resources: list[dict] | None) -> LearnerStack:
    paths = StatePaths(tmp_path)
    spec = build_spec({"cohort": "c1", "learner": "ana", "lesson": 4})
    if resources is not None:
        where = paths.backend_dir / ".pulumi" / "stacks" / "prodev-labs"
        where.mkdir(parents=True)
        (where / "c1-ana.json").write_text(json.dumps(checkpoint(resources)))
    engine = Engine(pulumi_root=None, env={"PULUMI_BACKEND_URL": f"file://{paths.backend_dir}"},
                    paths=paths)
    return LearnerStack(spec, ClusterTarget(tmp_path / "kubeconfig"), engine)


def k8s(kind: str, name: str, namespace: str | None) -> dict:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"type": f"kubernetes:{kind}", "custom": True, "outputs": {"metadata": meta}}


def test_a_stack_inside_its_namespace_is_swept_anything_else_is_destroyed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    inside = [{"type": "pulumi:pulumi:Stack", "custom": False},
              {"type": "pulumi:providers:kubernetes", "custom": True},
              {"type": "prodevlabs:index:LabEnvironment", "custom": False},
              k8s("core/v1:Namespace", "c1-ana", None),
              k8s("apps/v1:Deployment", "api", "c1-ana")]
    assert sweepable(learner(tmp_path / "a", inside))
    assert learner(tmp_path / "a", None).exists() is True
    elsewhere = [*inside, k8s("rbac.authorization.k8s.io/v1:ClusterRole", "x", None)]
    assert not sweepable(learner(tmp_path / "b", elsewhere))
    other_ns = [*inside, k8s("core/v1:ConfigMap", "x", "kube-system")]
    assert not sweepable(learner(tmp_path / "c", other_ns))
    image = [*inside, {"type": "docker:index/image:Image", "custom": True, "outputs": {}}]
    assert not sweepable(learner(tmp_path / "d", image))
    never = learner(tmp_path / "e", None)
    assert never.exists() is False and sweepable(never)

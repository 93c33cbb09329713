"""Secrets sealed in Python read back as Pulumi seals them; configure writes no CLI process."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import passphrase_crypt as crypt
from infra import stack_files
from infra.automation import ClusterTarget, Engine, LearnerStack, StatePaths, ensure_passphrase
from labs.secrets import GENERATED
from labs.spec import build_spec

pytestmark = pytest.mark.unit

# Written by `pulumi stack init` and `pulumi config set --secret a:d e` (3.274.1), passphrase
# "abc": the Go implementation's output, which the Python one must read and match.
PULUMI_SALT = "v1:6Oxll54hFFU=:v1:dEmnSvUlw+3wHVLL:NYFikYG3WmLtHZnySuUxInC2yNmo5Q=="
PULUMI_SECRET = "v1:lzDntJMmtSOzxhOg:op0anT1g389fBRI0p6bExO4="


@pytest.fixture(autouse=True)
def fresh_key_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys derived by one test never serve another (most use 1,000 rounds, not Pulumi's)."""
    monkeypatch.setattr(crypt, "_keys", {})


def test_reads_what_the_pulumi_cli_sealed() -> None:
    key = crypt.key_for("abc", PULUMI_SALT)
    assert crypt.open_value(key, PULUMI_SECRET) == "e"
    with pytest.raises(crypt.PassphraseMismatch):
        crypt.key_for("abd", PULUMI_SALT)


def test_seal_and_salt_state_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypt, "ROUNDS", 1000)
    state = crypt.new_salt_state("pass")
    assert state.startswith("v1:") and state.count(":") == 4
    key = crypt.key_for("pass", state)
    sealed = crypt.seal(key, "s3cret")
    assert sealed != crypt.seal(key, "s3cret")  # a fresh nonce every time
    assert crypt.open_value(key, sealed) == "s3cret"


def test_one_salt_per_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypt, "ROUNDS", 1000)
    path = tmp_path / "encryptionsalt"
    first = crypt.shared_salt_state(path, "pass")
    assert crypt.shared_salt_state(path, "pass") == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_new_learner_is_configured_without_the_cli(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypt, "ROUNDS", 1000)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    created: list[str] = []
    monkeypatch.setattr(LearnerStack, "stack", property(lambda s: created.append("stack")))
    paths = StatePaths(tmp_path)
    engine = Engine(pulumi_root=None, env={}, paths=paths)
    monkeypatch.setattr(LearnerStack, "work_dir", property(
        lambda s: paths.workspace(s.spec.stack_name)))
    paths.workspace("c1-ana").mkdir(parents=True)
    stack = LearnerStack(build_spec({"cohort": "c1", "learner": "ana", "lesson": 4}),
                         ClusterTarget(tmp_path / "kubeconfig"), engine)
    assert stack.configure() is True
    doc = stack_files.read_settings(paths.workspace("c1-ana"), "c1-ana")
    assert doc["encryptionsalt"] == paths.salt_file.read_text()
    key = crypt.key_for(ensure_passphrase(paths).read_text(), doc["encryptionsalt"])
    secrets = {k: crypt.open_value(key, v["secure"]) for k, v in doc["config"].items()
               if isinstance(v, dict)}
    assert set(secrets) == {f"prodev-labs:{s.key}" for s in GENERATED}
    assert doc["config"]["prodev-labs:lesson"] == "4"
    assert stack.configure() is False, "a re-run writes nothing"
    assert stack_files.read_settings(paths.workspace("c1-ana"), "c1-ana") == doc
    assert created, "the stack is created once its settings file holds the salt"

"""`invoke lab scale` refuses bad arguments with exit 2 before touching any cluster."""

from __future__ import annotations

import pytest

from labs.commands import scale

pytestmark = pytest.mark.unit


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(*_: object, **__: object) -> None:
        raise AssertionError("a cluster was contacted")

    monkeypatch.setattr(scale, "connect", connect)


@pytest.mark.parametrize(("component", "replicas", "message"), [
    ("db", "2", "--component must be one of api, worker"),
    ("api", "50", "--replicas must be 0..5"),
    ("api", None, "--replicas is required"),
])
def test_bad_arguments_exit_2_without_a_cluster(no_cluster: None, component: str,
                                                replicas: str | None, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = scale.run(lesson=4, learner="ada", cohort=None, context=None, component=component,
                     replicas=replicas)
    assert code == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_no_lab_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from infra.learner_cluster import LearnerClusterError

    def connect(namespace: str, context: str | None) -> None:
        raise LearnerClusterError(f"namespace {namespace} does not exist: the lab is not up")

    monkeypatch.setattr(scale, "connect", connect)
    assert scale.run(lesson=None, learner="ada", cohort="c9", context=None, component="api",
                     replicas="2") == 2
    assert "namespace c9-ada does not exist" in capsys.readouterr().err

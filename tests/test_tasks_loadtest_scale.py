"""`invoke lab scale` and `invoke loadtest` parse as the README writes them."""

from __future__ import annotations

from typing import Any

import pytest

from labs.commands import loadtest as loadtest_cmd
from labs.commands import scale as scale_cmd
from tests.test_tasks import run

pytestmark = pytest.mark.unit


def _record(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def fake(**kwargs: Any) -> int:
        seen.append(kwargs)
        return 0

    monkeypatch.setattr(module, "run", fake)
    return seen


def test_lab_scale_parses_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record(monkeypatch, scale_cmd)
    assert run(["lab", "scale", "--component", "api", "--replicas", "3"]) == 0
    assert run(["lab", "scale", "--component", "worker", "--replicas", "2", "--lesson", "8",
                "--learner", "ada", "--cohort", "c1", "--context", "kind-x"]) == 0
    first, second = calls
    assert (first["component"], first["replicas"], first["lesson"]) == ("api", "3", None)
    assert second == {"lesson": "8", "learner": "ada", "cohort": "c1", "context": "kind-x",
                      "component": "worker", "replicas": "2"}


def test_loadtest_without_target_runs_in_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _record(monkeypatch, loadtest_cmd)
    assert run(["loadtest", "--learner", "ada", "--workers", "2", "--users", "50",
                "--duration", "2m", "--scenario", "browse", "--cohort", "c1"]) == 0
    assert run(["loadtest", "--target", "http://127.0.0.1:8000", "--lesson", "4"]) == 0
    incluster, local = calls
    assert incluster["target"] is None and incluster["workers"] == 2
    assert (incluster["users"], incluster["duration"], incluster["scenario"]) == (50, "2m",
                                                                                "browse")
    assert incluster["lesson"] is None and incluster["cohort"] == "c1"
    assert local["target"] == "http://127.0.0.1:8000" and local["lesson"] == 4


def test_loadtest_refuses_workers_with_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["loadtest", "--target", "http://127.0.0.1:9", "--workers", "2"]) == 2
    assert "--workers is for in-cluster runs" in capsys.readouterr().err


def test_lab_help_lists_scale(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help", "lab"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "scale set the replicas of --component api|worker" in out
    assert "--component" in out and "--replicas" in out

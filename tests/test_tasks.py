"""The invoke command line parses as the README writes it, and reports bad flags clearly."""

from __future__ import annotations

from typing import Any

import pytest
from invoke import Program

import tasks
from labs.commands import lab as lab_cmd


def run(argv: list[str]) -> int:
    program = Program(namespace=tasks.ns, name="invoke", binary="invoke")
    try:
        program.run(["invoke", *argv], exit=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def fake(action: str, spec: Any, **kwargs: Any) -> int:
        seen.append({"action": action, "spec": spec, **kwargs})
        return 0

    monkeypatch.setattr(lab_cmd, "run_action", fake)
    return seen


def test_lab_up_lesson_4_parses_as_written(calls: list[dict[str, Any]]) -> None:
    assert run(["lab", "up", "--lesson", "4", "--learner", "abebe"]) == 0
    [call] = calls
    assert call["action"] == "up"
    assert call["spec"].lesson.number == 4
    assert call["spec"].namespace == "local-abebe"
    assert call["context"] is None


def test_learner_defaults_to_sanitised_login(calls: list[dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "Abebe.Kebede")
    assert run(["lab", "status", "--lesson", "1", "--json", "--context", "kind-x"]) == 0
    assert calls[0]["spec"].learner == "abebe-kebede"
    assert calls[0]["as_json"] is True and calls[0]["context"] == "kind-x"


def test_lab_check_endpoint_flags_reach_the_checks(calls: list[dict[str, Any]]) -> None:
    assert run(["lab", "check", "--lesson", "6", "--url", "http://127.0.0.1:9000",
                "--chapa-url", "http://127.0.0.1:9001", "--chapa-webhook-secret", "s3",
                "--mail-url", "http://127.0.0.1:9002"]) == 0
    endpoints = calls[0]["endpoints"]
    assert (endpoints.url, endpoints.chapa_url, endpoints.chapa_webhook_secret,
            endpoints.mail_url) == ("http://127.0.0.1:9000", "http://127.0.0.1:9001", "s3",
                                    "http://127.0.0.1:9002")
    assert endpoints.jenkins_url is None


def test_bad_flags_are_named_and_nothing_runs(calls: list[dict[str, Any]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "up", "--lesson", "12", "--learner", "Not_OK"]) == 2
    err = capsys.readouterr().err
    assert "unknown lesson 12" in err and "learner 'Not_OK'" in err
    assert run(["lab", "fly", "--lesson", "1"]) == 2
    assert "unknown action 'fly'" in capsys.readouterr().err
    assert run(["lab", "up"]) == 2
    assert "--lesson is required" in capsys.readouterr().err
    assert calls == []


def test_render_prints_the_lessons_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "render", "--lesson", "4", "--learner", "sara"]) == 0
    out = capsys.readouterr().out
    assert "kind: StatefulSet" in out and "name: local-sara" in out

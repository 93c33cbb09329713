"""`cohort check` reaches each learner's own Services: a forward per learner for every Service a
lesson's checks use that has no Ingress (the API of lessons 2, 5-7, Mailpit, the Chapa sandbox,
Jenkins), never one shared port-forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.automation import ClusterTarget
from labs.commands import checks
from labs.commands.checks import Endpoints, Forwarded, forwarded_endpoints, forwards_for
from labs.spec import build_spec

pytestmark = pytest.mark.unit


def spec(lesson: int, learner: str = "ada"):
    return build_spec({"lesson": lesson, "learner": learner, "cohort": "c1"})


def test_each_lesson_forwards_what_its_checks_reach_without_an_ingress() -> None:
    api = Forwarded("url", "api", 80)
    assert forwards_for(spec(7)) == (api, Forwarded("mail_url", "mailpit", 8025))
    assert forwards_for(spec(6)) == (api, Forwarded("chapa_url", "chapa-sandbox", 80))
    assert forwards_for(spec(2)) == (api,)
    assert forwards_for(spec(1)) == ()  # its API has an Ingress: the learner's host name
    assert forwards_for(spec(4)) == ()  # its checks read the Kubernetes API
    assert forwards_for(spec(5)) == (Forwarded("jenkins_url", "jenkins", 8080),)


class FakeForward:
    opened: list[tuple[str, str, int]] = []
    closed: list[str] = []

    def __init__(self, make_client, namespace: str, service: str, port: int) -> None:
        self.key = f"{namespace}/{service}:{port}"
        self.url = f"http://127.0.0.1:{40000 + len(self.opened)}"
        self.opened.append((namespace, service, port))

    def __enter__(self) -> FakeForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed.append(self.key)


@pytest.fixture(autouse=True)
def fake_forwards(monkeypatch: pytest.MonkeyPatch) -> None:
    import infra.portforward

    FakeForward.opened, FakeForward.closed = [], []
    monkeypatch.setattr(infra.portforward, "ServiceForward", FakeForward)


def test_every_learner_gets_forwards_of_their_own_closed_after_their_checks() -> None:
    target = ClusterTarget(kubeconfig=Path("/nonexistent"), context="kind-x", driver="kind")
    seen = {}
    for learner in ("ada", "bo"):
        with forwarded_endpoints(spec(7, learner), target,
                                 Endpoints(chapa_webhook_secret="s")) as reach:
            seen[learner] = reach
    assert FakeForward.opened == [("c1-ada", "api", 80), ("c1-ada", "mailpit", 8025),
                                  ("c1-bo", "api", 80), ("c1-bo", "mailpit", 8025)]
    assert len(FakeForward.closed) == 4
    assert len({seen["ada"].mail_url, seen["bo"].mail_url, seen["ada"].url,
                seen["bo"].url}) == 4
    assert seen["bo"].chapa_webhook_secret == "s"
    ctx = checks.context_for(spec(7, "bo"), None, seen["bo"], cohort=True)
    assert (ctx.base_url, ctx.mail_url) == (seen["bo"].url, seen["bo"].mail_url)


def test_an_endpoint_given_on_the_command_line_is_not_forwarded() -> None:
    target = ClusterTarget(kubeconfig=Path("/nonexistent"), context="kind-x", driver="kind")
    with forwarded_endpoints(spec(6), target, Endpoints(url="http://api.example")) as reach:
        assert reach.url == "http://api.example"
    assert FakeForward.opened == [("c1-ada", "chapa-sandbox", 80)]
    with forwarded_endpoints(spec(6), None) as reach:  # no cluster: the guide's defaults
        assert reach == Endpoints()

"""Where `lab check` and `cohort check` send each lesson's checks."""

from __future__ import annotations

import pytest

from labs.commands.checks import LOCAL_API, Endpoints, cluster_use, context_for
from labs.spec import build_spec

pytestmark = pytest.mark.unit


def spec(lesson: int):
    return build_spec({"lesson": lesson, "learner": "ada", "cohort": "c1"})


def test_a_learner_reaches_the_guides_port_forwards_unless_told_otherwise() -> None:
    ctx = context_for(spec(1), None)
    assert ctx.base_url == LOCAL_API and ctx.repo is None and ctx.api is None
    ctx = context_for(spec(6), None, Endpoints(url="http://127.0.0.1:9000",
                                               chapa_webhook_secret="s3cret"))
    assert ctx.base_url == "http://127.0.0.1:9000" and ctx.chapa_webhook_secret == "s3cret"


def test_a_cohort_reaches_each_learners_api_through_its_ingress_host() -> None:
    ctx = context_for(spec(2), None, cohort=True)
    assert ctx.base_url == "http://ada.labs.localhost"


def test_jenkins_is_reached_as_the_labs_admin_when_its_secret_is_readable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from labs.commands import checks

    assert context_for(spec(5), None).jenkins_url == checks.LOCAL_JENKINS
    monkeypatch.setattr(checks, "_secret_value", lambda api, ns, name, key: "p@ss/word")
    assert context_for(spec(5), None).jenkins_url == "http://admin:p%40ss%2Fword@127.0.0.1:8080"
    assert context_for(spec(4), None).jenkins_url is None


def test_git_and_pipeline_lessons_look_at_the_learners_working_trees() -> None:
    assert context_for(spec(3), None).repo.name == "practice"
    assert context_for(spec(5), None).repo.parts[-2:] == ("lesson-5", "app")
    assert str(context_for(spec(8), None).reports_dir) == "reports/ada"


def test_only_cluster_lessons_need_the_kubernetes_api() -> None:
    assert [cluster_use(n) for n in range(1, 9)] == [
        None, None, None, "required", "optional", "optional", None, None]

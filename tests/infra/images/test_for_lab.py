"""Choosing a lab's images for its target: offline builds on an offline kind cluster, the
upstream set elsewhere, and lesson 5 without the runner that cannot be had offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.automation import ClusterTarget
from infra.images import for_lab
from labs.spec import build_spec


@pytest.fixture()
def built(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Replace the builds: record the roles asked for, answer content-tagged references."""
    asked: list[list[str]] = []

    def fake(roles, registry, say, app_source=None):  # noqa: ANN001, ANN202
        roles = list(roles)
        asked.append(roles)
        return {r: f"{registry}/prodev-labs/{r}:0123456789ab" for r in roles}

    monkeypatch.setattr(for_lab, "offline_images", fake)
    return asked


def test_each_lesson_builds_only_the_images_it_runs() -> None:
    roles = {n: for_lab.roles_for(build_spec({"lesson": n, "learner": "ada"}))
             for n in (1, 4, 6, 7)}
    assert roles[1] == ["api", "postgres"]
    assert roles[4] == ["api", "postgres", "rabbitmq"]
    assert roles[6] == ["api", "postgres", "rabbitmq", "mailpit", "chapa_sandbox"]
    assert roles[7] == ["api", "postgres", "rabbitmq", "mailpit"]


def test_offline_spec_names_the_pushed_tags_and_builds_nothing_in_pulumi(built) -> None:
    spec = build_spec({"lesson": 4, "learner": "ada"})
    got = for_lab.offline_spec(spec, lambda _: None)
    assert got.spec.images.postgres == "localhost:5001/prodev-labs/postgres:0123456789ab"
    assert got.spec.images.api.endswith(":0123456789ab")
    assert "latest" not in json.dumps([got.spec.images.api, got.spec.images.rabbitmq])
    assert got.spec.build_images is False and got.notes == ()


def test_lesson_5_offline_says_why_there_is_no_runner_and_deploys_the_rest(built) -> None:
    spec = build_spec({"lesson": 5, "learner": "ada"})
    assert spec.deploys("ci_runner")
    got = for_lab.offline_spec(spec, lambda _: None)
    assert not got.spec.deploys("ci_runner")
    assert got.spec.deploys("api") and got.spec.deploys("postgres")
    assert len(got.notes) == 1 and "jenkins" in got.notes[0] and "reach" in got.notes[0]
    assert built == [["api", "postgres"]]  # no Jenkins build attempted


def test_the_image_mode_follows_how_the_kind_cluster_was_made(tmp_path: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path))
    from infra.cluster import kind

    kind.state_dir("c1").mkdir(parents=True)
    (kind.state_dir("c1") / "cluster.json").write_text(json.dumps({"images": "offline"}))
    offline = ClusterTarget(kind.kubeconfig_path("c1"), None, "kind")
    assert for_lab.image_mode(offline) == "offline"
    (kind.state_dir("c1") / "cluster.json").write_text(json.dumps({"images": "upstream"}))
    assert for_lab.image_mode(offline) == "upstream"
    assert for_lab.image_mode(ClusterTarget(tmp_path / "kubeconfig", "ctx", "external")) \
        == "upstream"


def test_a_spec_without_a_runner_round_trips_through_stack_config() -> None:
    from labs.spec import to_config

    spec = build_spec({"lesson": 5, "learner": "ada", "ciRunner": "none"})
    again = build_spec(to_config(spec))
    assert not again.deploys("ci_runner") and again.ci_runner == "none"

"""In-cluster load tests seed the learner's database first, with the API's own container, and
run Locust from the image the cluster can have (offline kind: the one built here)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client

from infra.automation import ClusterTarget
from infra.components.loadgen import IMAGE, SEED_CONTAINER, LoadTest, Seed, loadgen_manifests
from labs.commands import loadtest as command
from labs.loadtest import incluster
from labs.loadtest.localapp import SeedSize
from tests.infra.conftest import containers, find, rendered, spec_for
from tests.infra.test_render import K8S_VERSION

pytestmark = pytest.mark.unit


def api_container() -> dict[str, Any]:
    """The API's container as lesson 8 renders it (camelCase, as the cluster returns it)."""
    [api] = containers(find(rendered(8), "Deployment", "api"))
    return api


def seed() -> Seed:
    return Seed(container=api_container(), args=tuple(SeedSize().args()), users=50)


@pytest.mark.parametrize("workers", [0, 2])
def test_the_results_pod_seeds_with_the_apis_own_container(workers: int) -> None:
    objects = loadgen_manifests(spec_for(8), LoadTest(run_id="r1", workers=workers,
                                                      seed=seed()))
    jobs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Job"}
    results = jobs["loadtest-r1" if workers == 0 else "loadtest-r1-master"]
    pod = results["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    api = api_container()
    assert init["name"] == SEED_CONTAINER
    assert (init["image"], init["env"], init["resources"]) == (
        api["image"], api["env"], api["resources"])
    # The API's restricted context (its own user), not Locust's.
    assert init["securityContext"] == api["securityContext"]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    script = init["command"][-1]
    assert "count() >= 50 else 3" in script and "seed --reset --users 50" in script
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["LOADTEST_SEEDED_USERS"] == "50"
    for name, job in jobs.items():  # workers only wait for the master: they never seed
        if job is not results:
            assert "initContainers" not in job["spec"]["template"]["spec"], name
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_without_a_seed_nothing_changes() -> None:
    job = loadgen_manifests(spec_for(8), LoadTest(run_id="r1"))[1]
    pod = job["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert "LOADTEST_SEEDED_USERS" not in json.dumps(pod["containers"][0]["env"])


def test_seed_comes_from_the_api_deployment_in_the_cluster(monkeypatch) -> None:
    api = client.ApiClient()
    deployment = api._ApiClient__deserialize(find(rendered(8), "Deployment", "api"),
                                             "V1Deployment")

    class Apps:
        def __init__(self, _api: Any) -> None: ...

        def read_namespaced_deployment(self, name: str, namespace: str) -> Any:
            assert (name, namespace) == ("api", "c1-abebe")
            return deployment

    monkeypatch.setattr(client, "AppsV1Api", Apps)
    got = incluster.seed_from_cluster(api, "c1-abebe")
    assert got is not None and got.users == SeedSize().users
    assert got.container["image"] == api_container()["image"]
    assert got.container["securityContext"] == api_container()["securityContext"]


def test_the_progress_says_when_the_pod_seeds() -> None:
    def pod(init_running: bool) -> SimpleNamespace:
        state = SimpleNamespace(running=object() if init_running else None)
        return SimpleNamespace(status=SimpleNamespace(
            phase="Pending",
            init_container_statuses=[SimpleNamespace(name=SEED_CONTAINER, state=state)]))

    assert incluster.pod_phase(pod(True)) == "seeding the database"
    assert incluster.pod_phase(pod(False)) == "Pending"
    assert incluster.pod_phase(None) == "waiting for a pod"


def _lab(target: ClusterTarget) -> Any:
    return SimpleNamespace(target=target)


def test_an_offline_kind_cluster_gets_locust_built_here(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path))
    from infra.cluster import kind
    from infra.images import offline

    asked: list[tuple[list[str], str]] = []

    def fake(roles, registry, say, app_source=None):  # noqa: ANN001, ANN202
        asked.append((list(roles), registry))
        return {"loadgen": f"{registry}/prodev-labs/locust:0123456789ab"}

    monkeypatch.setattr(offline, "offline_images", fake)
    kind.state_dir("c1").mkdir(parents=True)
    (kind.state_dir("c1") / "cluster.json").write_text(json.dumps({"images": "offline"}))
    target = ClusterTarget(kind.kubeconfig_path("c1"), None, "kind")
    ref = command.loadgen_image(_lab(target), "localhost:5001", lambda _: None)
    assert ref == "localhost:5001/prodev-labs/locust:0123456789ab"
    assert asked == [(["loadgen"], "localhost:5001")]

    (kind.state_dir("c1") / "cluster.json").write_text(json.dumps({"images": "upstream"}))
    assert command.loadgen_image(_lab(target), "localhost:5001", lambda _: None) == IMAGE
    sim = ClusterTarget(tmp_path / "kubeconfig", "ctx", "sim")
    assert command.loadgen_image(_lab(sim), "localhost:5001", lambda _: None) == IMAGE
    assert len(asked) == 1

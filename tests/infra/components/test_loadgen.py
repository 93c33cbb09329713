"""In-cluster load test manifests: schema-valid (strict, 1.35), labelled, restricted."""

from __future__ import annotations

import kubernetes_validate
import pytest

from infra.components.loadgen import (
    CONFIG_KEY,
    LoadTest,
    loadgen_manifests,
    selector_for,
)
from labs.loadtest.scenarios import locustfile_source
from tests.infra.conftest import spec_for
from tests.infra.test_render import K8S_VERSION, REQUIRED_LABELS

pytestmark = pytest.mark.unit


def manifests(**kw):
    return loadgen_manifests(spec_for(8), LoadTest(run_id="r1", **kw))


@pytest.mark.parametrize("workers", [0, 3])
@pytest.mark.parametrize("scenario", ["browse", "book", "mixed"])
def test_manifests_pass_strict_schema_validation(workers: int, scenario: str) -> None:
    for obj in manifests(workers=workers, scenario=scenario):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_standalone_is_a_configmap_and_one_job() -> None:
    objs = manifests(users=30, spawn_rate=5, duration_s=120, scenario="browse")
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("ConfigMap", "loadtest-r1"), ("Job", "loadtest-r1")]
    assert objs[0]["data"][CONFIG_KEY] == locustfile_source()
    job = objs[1]
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][-1]
    for part in ("--headless", "--users 30", "--spawn-rate 5", "--run-time 120s",
                 "--host http://api ", "BrowseUser"):
        assert part in script
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] > 120


def test_distributed_run_has_master_service_and_workers() -> None:
    objs = manifests(workers=3, scenario="mixed")
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objs]
    assert kinds == [("ConfigMap", "loadtest-r1"), ("Service", "loadtest-r1-master"),
                     ("Job", "loadtest-r1-master"), ("Job", "loadtest-r1-worker")]
    service, master, workers = objs[1], objs[2], objs[3]
    master_labels = master["spec"]["template"]["metadata"]["labels"]
    assert all(master_labels[k] == v for k, v in service["spec"]["selector"].items())
    script = master["spec"]["template"]["spec"]["containers"][0]["args"][-1]
    assert "--master" in script and "--expect-workers 3" in script
    worker_args = workers["spec"]["template"]["spec"]["containers"][0]["args"]
    assert worker_args[worker_args.index("--master-host") + 1] == "loadtest-r1-master"
    assert worker_args[-2:] == ["BrowseUser", "BookUser"]
    assert workers["spec"]["parallelism"] == workers["spec"]["completions"] == 3


@pytest.mark.parametrize("workers", [0, 2])
def test_every_object_is_labelled_and_every_pod_restricted(workers: int) -> None:
    spec = spec_for(8)
    for obj in manifests(workers=workers):
        labels = obj["metadata"]["labels"]
        assert all(k in labels for k in REQUIRED_LABELS), obj["metadata"]["name"]
        assert labels["labs.prodev.dev/loadtest"] == "r1"
        assert obj["metadata"]["namespace"] == spec.namespace
        if obj["kind"] != "Job":
            continue
        pod = obj["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {
                "drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert sc["readOnlyRootFilesystem"] is True
            assert set(c["resources"]) == {"requests", "limits"}
    assert selector_for("r1") == "labs.prodev.dev/loadtest=r1"


@pytest.mark.parametrize("bad", [{"users": 0}, {"duration_s": 0}, {"workers": 11},
                                 {"scenario": "nope"}, {"run_id": "Bad_ID"}])
def test_bad_runs_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        LoadTest(**bad)

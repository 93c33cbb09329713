"""Every lesson renders to objects valid against the Kubernetes schema, labelled per DESIGN."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import ValidationError

from infra.render import to_yaml
from tests.infra.conftest import find, rendered

K8S_VERSION = "1.35.0"
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/component",
                   "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
                   "labs.prodev.dev/cohort", "labs.prodev.dev/learner", "labs.prodev.dev/lesson")


@pytest.mark.parametrize("lesson", range(1, 9))
def test_every_object_passes_strict_schema_validation(lesson: int) -> None:
    for obj in rendered(lesson):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_validator_rejects_a_broken_object() -> None:
    deployment = copy.deepcopy(find(rendered(4), "Deployment", "api"))
    deployment["spec"]["replicaz"] = 2  # unknown field: strict mode must refuse it
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    deployment = copy.deepcopy(find(rendered(4), "Deployment", "api"))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "x"
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


@pytest.mark.parametrize("lesson", range(1, 9))
def test_every_object_carries_the_design_labels_and_namespace(lesson: int) -> None:
    for obj in rendered(lesson):
        labels = obj["metadata"]["labels"]
        missing = [k for k in REQUIRED_LABELS if k not in labels]
        assert not missing, f"{obj['kind']} {obj['metadata']['name']} lacks {missing}"
        assert labels["labs.prodev.dev/lesson"] == str(lesson)
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "c1-abebe"


def test_lesson_four_has_all_its_components() -> None:
    objects = rendered(4)
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for expected in [("StatefulSet", "postgres"), ("StatefulSet", "rabbitmq"),
                     ("Deployment", "api"), ("Deployment", "worker"), ("Service", "api"),
                     ("Ingress", "api"), ("Secret", "postgres-credentials")]:
        assert expected in names
    assert not any(kind == "Deployment" and name in {"mailpit", "beat"}
                   for kind, name in names)


def test_yaml_output_round_trips() -> None:
    text = to_yaml(rendered(1))
    docs = list(yaml.safe_load_all(text))
    assert docs == rendered(1)
    assert text.startswith("---")


@pytest.mark.parametrize("lesson", [4, 8])
def test_every_object_is_owned_by_the_lab(lesson: int) -> None:
    # Server-side apply takes fields back on re-run; an interrupted run's objects are adopted.
    for obj in rendered(lesson):
        assert obj["metadata"]["annotations"]["pulumi.com/patchForce"] == "true", obj["kind"]

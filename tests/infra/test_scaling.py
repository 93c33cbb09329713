"""`lab scale` argument validation: every problem named, before any cluster is touched."""

from __future__ import annotations

import pytest

from infra.scaling import ScaleError, validate
from tests.infra.conftest import spec_for

pytestmark = pytest.mark.unit


def test_a_valid_request_names_the_deployment() -> None:
    request = validate(spec_for(4), "worker", "3")
    assert (request.namespace, request.deployment, request.replicas) == ("c1-abebe", "worker", 3)
    assert request.maximum == 5  # the standard profile's max_replicas
    assert validate(spec_for(8), "api", 8).deployment == "api"
    assert validate(spec_for(1), "api", 0).replicas == 0  # scaling to zero is allowed


@pytest.mark.parametrize(("lesson", "component", "replicas", "message"), [
    (4, "db", "1", "--component must be one of api, worker, not 'db'"),
    (4, None, "1", "--component is required"),
    (1, "worker", "1", "lesson 1 deploys no worker"),
    (1, "api", "4", "--replicas must be 0..3 (the small profile's max_replicas"),
    (8, "api", "9", "--replicas must be 0..8"),
    (4, "api", "-1", "--replicas must be 0..5"),
    (4, "api", "three", "--replicas must be a whole number, not 'three'"),
    (4, "api", None, "--replicas is required"),
])
def test_bad_requests_are_refused_with_a_reason(lesson: int, component: str | None,
                                                replicas: str | None, message: str) -> None:
    with pytest.raises(ScaleError, match="^.*" + message.replace("(", r"\(")):
        validate(spec_for(lesson), component, replicas)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ScaleError) as info:
        validate(spec_for(1), "worker", "99")
    assert "deploys no worker" in str(info.value) and "0..3" in str(info.value)

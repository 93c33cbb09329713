"""What `lab up` deploys per target: images built on kind, the learner's code for code lessons."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.automation import ClusterTarget
from labs.commands.lab import for_target
from labs.practice.app_workspace import create_app_workspace
from labs.spec import SpecError, build_spec, to_config

pytestmark = pytest.mark.unit

KIND = ClusterTarget(Path("/k"), None, "kind")
SIM = ClusterTarget(Path("/k"), None, "sim")


def spec(lesson: int):
    return build_spec({"lesson": lesson, "learner": "ada", "cohort": "c1"})


def test_sim_deploys_the_spec_as_given() -> None:
    assert for_target(spec(2), SIM, Path("/nowhere")) == spec(2)


def test_kind_builds_images_and_the_learners_app_for_code_lessons(tmp_path: Path) -> None:
    copy = create_app_workspace(tmp_path, 2)
    deployed = for_target(spec(2), KIND, copy)
    assert deployed.build_images and deployed.app_source == str(copy)
    assert deployed.images.api.endswith("/prodev-labs/api:c1-ada")
    # The stack config round-trips it, so the Pulumi program builds the same thing.
    assert build_spec(to_config(deployed)) == deployed

    lesson4 = for_target(spec(4), KIND, None)
    assert lesson4.build_images and lesson4.app_source is None
    assert lesson4.images == spec(4).images


def test_an_app_source_without_a_dockerfile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="appSource: .* has no Dockerfile"):
        build_spec({"lesson": 2, "learner": "ada", "appSource": str(tmp_path)})

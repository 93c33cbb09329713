"""LabSpec validation: names, lessons, settings; config round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labs.names import DNS1123_LABEL, label_problem, sanitise
from labs.spec import SpecError, build_spec, to_config


def problems(**values) -> list[str]:
    with pytest.raises(SpecError) as info:
        build_spec(values)
    return info.value.problems


def test_defaults_for_a_learner() -> None:
    spec = build_spec({"learner": "abebe", "lesson": "4"})
    assert spec.namespace == "local-abebe"
    assert spec.profile.name == "standard"
    assert spec.ci_runner == "jenkins"
    assert spec.images.api == "localhost:5001/prodev-labs/api:latest"
    assert spec.ingress_host == "abebe.labs.localhost"


def test_every_problem_is_listed_at_once() -> None:
    found = problems(cohort="Cohort_1", learner="", lesson=12, profile="huge")
    assert any("cohort 'Cohort_1'" in p for p in found)
    assert any("learner is empty" in p for p in found)
    assert any("lesson: unknown lesson 12; lessons are 1, 2" in p for p in found)


def test_unknown_setting_is_named() -> None:
    assert any("ciRuner: unknown setting" in p
               for p in problems(learner="a", lesson=4, ciRuner="jenkins"))


def test_namespace_longer_than_63_characters() -> None:
    [problem] = problems(cohort="c" * 40, learner="l" * 30, lesson=1)
    assert "namespace <cohort>-<learner>" in problem and "71 characters" in problem


def test_github_runner_needs_a_repository() -> None:
    [problem] = problems(learner="a", lesson=5, ciRunner="github-actions")
    assert problem.startswith("githubRepo:")
    spec = build_spec({"learner": "a", "lesson": 5, "ciRunner": "github-actions",
                       "githubRepo": "https://github.com/me/app"})
    assert spec.ci_runner == "github-actions"


def test_unknown_profile_and_bad_expiry() -> None:
    found = problems(learner="a", lesson=1, profile="huge", expires="next week")
    assert any("unknown profile 'huge'" in p for p in found)
    assert any("'next week' is not a date" in p for p in found)


def test_config_round_trip() -> None:
    spec = build_spec({"cohort": "c7", "learner": "sara", "lesson": 8, "profile": "standard",
                       "imagePostgres": "mirror.local/postgres:17", "expires": "2026-12-31"})
    assert build_spec(to_config(spec)) == spec


@given(st.text(max_size=80))
def test_sanitised_names_are_valid_labels_or_empty(raw: str) -> None:
    name = sanitise(raw)
    assert name == "" or (DNS1123_LABEL.match(name) and len(name) <= 63)
    assert (label_problem(name, "x") is None) == (name != "")

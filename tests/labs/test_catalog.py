"""The lesson catalog: shipped lessons load, and each kind of bad input is named clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from kubernetes.utils import parse_quantity

from labs.catalog import LESSONS_DIR, CatalogError, load_catalog
from labs.sizing import footprint


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS_DIR, root)
    return root


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def problems(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(root)
    return info.value.problems


def test_shipped_catalog_has_eight_lessons_each_fitting_its_quota() -> None:
    catalog = load_catalog()
    assert sorted(catalog.lessons) == list(range(1, 9))
    lesson4 = catalog.lesson(4)
    assert lesson4.components == ("postgres", "rabbitmq", "api", "worker")
    assert lesson4.exercises.is_file()
    for lesson in catalog.lessons.values():
        profile = catalog.profile(lesson.profile)
        need = footprint(lesson, profile).as_quota()
        for key, amount in need.items():
            assert amount <= parse_quantity(profile.quota[key]), (lesson.slug, key)


def test_unknown_key_names_file_and_key(lessons: Path) -> None:
    edit(lessons / "04-docker-kubernetes" / "lesson.yaml", lambda d: d.update(replica=3))
    [problem] = problems(lessons)
    assert "04-docker-kubernetes/lesson.yaml" in problem
    assert "unknown key 'replica'" in problem


def test_unknown_component_is_named(lessons: Path) -> None:
    edit(lessons / "01-django-drf-graphql" / "lesson.yaml",
         lambda d: d["components"].append("redis-cluster"))
    [problem] = problems(lessons)
    assert "01-django-drf-graphql/lesson.yaml: components" in problem
    assert "unknown component 'redis-cluster'" in problem


def test_component_missing_its_dependency(lessons: Path) -> None:
    edit(lessons / "04-docker-kubernetes" / "lesson.yaml",
         lambda d: d["components"].remove("rabbitmq"))
    assert any("worker needs rabbitmq" in p for p in problems(lessons))


def test_request_above_limit_is_impossible(lessons: Path) -> None:
    def bump(d: dict) -> None:
        d["small"]["components"]["api"]["requests"]["cpu"] = "3"
    edit(lessons / "profiles.yaml", bump)
    found = problems(lessons)
    assert any("profiles.yaml: small.components.api.requests.cpu" in p
               and "more than the limit" in p for p in found)


def test_quota_smaller_than_the_lesson_is_impossible(lessons: Path) -> None:
    edit(lessons / "profiles.yaml", lambda d: d["standard"]["quota"].update(
        {"requests.memory": "512Mi"}))
    found = problems(lessons)
    assert any("04-docker-kubernetes/lesson.yaml: profile" in p
               and "requests.memory=512Mi" in p for p in found)


def test_bad_quantity_and_missing_exercises_are_both_reported(lessons: Path) -> None:
    edit(lessons / "profiles.yaml",
         lambda d: d["large"]["container_max"].update(cpu="lots"))
    (lessons / "05-ci-cd" / "README.md").unlink()
    found = problems(lessons)
    assert any("large.container_max.cpu" in p and "'lots' is not a Kubernetes quantity" in p
               for p in found)
    assert any("05-ci-cd/lesson.yaml: exercises" in p for p in found)


def test_replicas_above_profile_maximum(lessons: Path) -> None:
    edit(lessons / "01-django-drf-graphql" / "lesson.yaml",
         lambda d: d["api"].update(replicas=9))
    assert any("api.replicas" in p and "max_replicas 3" in p for p in problems(lessons))


def test_duplicate_lesson_number(lessons: Path) -> None:
    edit(lessons / "02-middleware-signals-orm" / "lesson.yaml", lambda d: d.update(number=1))
    assert any("lesson 1 is also" in p for p in problems(lessons))

"""Rendered environments (Pulumi mock runtime), shared by the infra unit tests."""

from __future__ import annotations

from functools import cache
from typing import Any

from infra.render import render
from labs.spec import LabSpec, build_spec


@cache
def spec_for(lesson: int, **extra: str) -> LabSpec:
    return build_spec({"cohort": "c1", "learner": "abebe", "lesson": lesson, **extra})


@cache
def _rendered(lesson: int, extra: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], ...]:
    return tuple(render(spec_for(lesson, **dict(extra))))


def rendered(lesson: int, **extra: str) -> list[dict[str, Any]]:
    return list(_rendered(lesson, tuple(sorted(extra.items()))))


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind
               and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def kinds(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["metadata"]["name"]) for o in objects)


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return pod_spec(obj)["containers"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}

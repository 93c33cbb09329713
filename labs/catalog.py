"""The lesson catalog: labs/lessons/*/lesson.yaml and profiles.yaml as frozen, typed objects.

Everything is checked when loaded, and every problem is reported at once, each naming its file
and field, so a broken catalog never reaches a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from kubernetes.utils import parse_quantity

from labs.problems import ProblemsError

LESSONS_DIR = Path(__file__).parent / "lessons"

# Components a lesson may deploy. The namespace and its guardrails are always there.
COMPONENTS: tuple[str, ...] = (
    "postgres",
    "rabbitmq",
    "api",
    "worker",
    "beat",
    "ci_runner",
    "mailpit",
    "chapa_sandbox",
)
# What each component needs beside it in the same namespace.
REQUIRES: Mapping[str, tuple[str, ...]] = {
    "api": ("postgres",),
    "worker": ("api", "rabbitmq", "postgres"),
    "beat": ("worker",),
    "chapa_sandbox": ("api",),
}
CI_RUNNERS: tuple[str, ...] = ("jenkins", "github-actions")
# The profile entry that sizes a component (the CI runner depends on its kind).
PROFILE_ENTRY_FOR_RUNNER = {"jenkins": "jenkins", "github-actions": "github_runner"}
MIDDLEWARES: tuple[str, ...] = (
    "request_logging",
    "access_hours",
    "post_rate_limit",
    "role_permission",
)
QUOTA_KEYS: tuple[str, ...] = (
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "pods",
    "persistentvolumeclaims",
    "requests.storage",
)


class CatalogError(ProblemsError):
    """The catalog is invalid; `problems` lists each one as 'file: field: what is wrong'."""

    heading = "invalid lesson catalog"


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container, as Kubernetes quantity strings."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_k8s(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class ComponentSize:
    resources: Resources
    storage: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    quota: Mapping[str, str]
    container_max_cpu: str
    container_max_memory: str
    container_default: Resources
    max_replicas: int
    components: Mapping[str, ComponentSize]


@dataclass(frozen=True)
class ApiSettings:
    replicas: int = 1
    autoscale: bool = False
    ingress: bool = False
    middleware: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerSettings:
    replicas: int = 1
    autoscale: bool = False


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    title: str
    summary: str
    profile: str
    components: tuple[str, ...]
    exercises: Path
    api: ApiSettings = field(default_factory=ApiSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    ci_runner: str = "jenkins"

    def deploys(self, component: str) -> bool:
        return component in self.components


@dataclass(frozen=True)
class Catalog:
    lessons: Mapping[int, Lesson]
    profiles: Mapping[str, Profile]

    def lesson(self, number: int) -> Lesson:
        try:
            return self.lessons[number]
        except KeyError:
            known = ", ".join(str(n) for n in sorted(self.lessons))
            raise KeyError(f"unknown lesson {number}; lessons are {known}") from None

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise KeyError(f"unknown profile {name!r}; profiles are {known}") from None


class _Problems:
    """Collects problems so a loader can report all of them together."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def unknown_keys(self, where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(data) - allowed):
            self.add(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")

    def quantity(self, where: str, value: Any) -> Decimal | None:
        try:
            amount = parse_quantity(str(value))
        except (ValueError, TypeError):
            self.add(where, f"{value!r} is not a Kubernetes quantity")
            return None
        if amount <= 0:
            self.add(where, f"{value!r} must be greater than zero")
            return None
        return amount


def _q(value: str) -> Decimal:
    return parse_quantity(value)


def _read_yaml(path: Path, problems: _Problems) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        problems.add(str(path), f"not valid YAML: {exc}")
    except OSError as exc:
        problems.add(str(path), f"cannot be read: {exc.strerror}")
    return None


def _resources(where: str, data: Any, problems: _Problems) -> Resources | None:
    if not isinstance(data, Mapping):
        problems.add(where, "must be a mapping with requests and limits")
        return None
    problems.unknown_keys(where, data, {"requests", "limits", "storage"})
    values: dict[str, str] = {}
    for part in ("requests", "limits"):
        block = data.get(part)
        if not isinstance(block, Mapping):
            problems.add(f"{where}.{part}", "missing (needs cpu and memory)")
            continue
        problems.unknown_keys(f"{where}.{part}", block, {"cpu", "memory"})
        for kind in ("cpu", "memory"):
            if kind not in block:
                problems.add(f"{where}.{part}.{kind}", "missing")
            elif problems.quantity(f"{where}.{part}.{kind}", block[kind]) is not None:
                values[f"{part}.{kind}"] = str(block[kind])
    if len(values) != 4:
        return None
    res = Resources(
        cpu_request=values["requests.cpu"],
        memory_request=values["requests.memory"],
        cpu_limit=values["limits.cpu"],
        memory_limit=values["limits.memory"],
    )
    for kind, req, lim in (
        ("cpu", res.cpu_request, res.cpu_limit),
        ("memory", res.memory_request, res.memory_limit),
    ):
        if _q(req) > _q(lim):
            problems.add(f"{where}.requests.{kind}", f"{req} is more than the limit {lim}")
    return res


def _profile(path: Path, name: str, data: Any, problems: _Problems) -> Profile | None:
    where = f"{path.name}: {name}"
    if not isinstance(data, Mapping):
        problems.add(where, "must be a mapping")
        return None
    allowed = {"description", "quota", "container_max", "container_default", "max_replicas",
               "components"}
    problems.unknown_keys(where, data, allowed)
    start = len(problems.items)

    quota = data.get("quota") or {}
    problems.unknown_keys(f"{where}.quota", quota, set(QUOTA_KEYS))
    for key in QUOTA_KEYS:
        if key not in quota:
            problems.add(f"{where}.quota.{key}", "missing")
        else:
            problems.quantity(f"{where}.quota.{key}", quota[key])

    cmax = data.get("container_max") or {}
    for kind in ("cpu", "memory"):
        if kind not in cmax:
            problems.add(f"{where}.container_max.{kind}", "missing")
        else:
            problems.quantity(f"{where}.container_max.{kind}", cmax[kind])
    default = _resources(f"{where}.container_default", data.get("container_default"), problems)

    max_replicas = data.get("max_replicas", 1)
    if not isinstance(max_replicas, int) or isinstance(max_replicas, bool) or max_replicas < 1:
        problems.add(f"{where}.max_replicas", f"{max_replicas!r} must be a whole number >= 1")

    sizes: dict[str, ComponentSize] = {}
    entries = set(COMPONENTS) - {"ci_runner"} | set(PROFILE_ENTRY_FOR_RUNNER.values())
    comps = data.get("components") or {}
    problems.unknown_keys(f"{where}.components", comps, entries)
    for comp in sorted(entries):
        cwhere = f"{where}.components.{comp}"
        if comp not in comps:
            problems.add(cwhere, "missing")
            continue
        res = _resources(cwhere, comps[comp], problems)
        storage = comps[comp].get("storage") if isinstance(comps[comp], Mapping) else None
        if storage is not None:
            problems.quantity(f"{cwhere}.storage", storage)
        if res is None:
            continue
        if "cpu" in cmax and "memory" in cmax and len(problems.items) == start:
            for kind, lim in (("cpu", res.cpu_limit), ("memory", res.memory_limit)):
                if _q(lim) > _q(str(cmax[kind])):
                    problems.add(f"{cwhere}.limits.{kind}",
                                 f"{lim} is more than container_max.{kind} {cmax[kind]}")
        sizes[comp] = ComponentSize(res, str(storage) if storage is not None else None)

    if len(problems.items) != start or default is None:
        return None
    return Profile(
        name=name,
        description=str(data.get("description", "")),
        quota={k: str(quota[k]) for k in QUOTA_KEYS},
        container_max_cpu=str(cmax["cpu"]),
        container_max_memory=str(cmax["memory"]),
        container_default=default,
        max_replicas=max_replicas,
        components=sizes,
    )


def _lesson(path: Path, data: Any, profiles: Mapping[str, Profile],
            problems: _Problems) -> Lesson | None:
    where = f"{path.parent.name}/{path.name}"
    if not isinstance(data, Mapping):
        problems.add(where, "must be a mapping")
        return None
    allowed = {"number", "title", "summary", "profile", "components", "exercises", "api",
               "worker", "ci_runner"}
    problems.unknown_keys(where, data, allowed)
    start = len(problems.items)
    for key in ("number", "title", "summary", "profile", "components", "exercises"):
        if key not in data:
            problems.add(f"{where}: {key}", "missing")
    if len(problems.items) != start:
        return None

    number = data["number"]
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 99:
        problems.add(f"{where}: number", f"{number!r} must be a lesson number from 1 to 99")
    profile = data["profile"]
    if profile not in profiles:
        problems.add(f"{where}: profile",
                     f"unknown profile {profile!r} (known: {', '.join(sorted(profiles))})")
    components = data["components"] or []
    if not isinstance(components, list):
        problems.add(f"{where}: components", "must be a list")
        components = []
    for comp in components:
        if comp not in COMPONENTS:
            problems.add(f"{where}: components",
                         f"unknown component {comp!r} (known: {', '.join(COMPONENTS)})")
        for needed in REQUIRES.get(comp, ()):
            if needed not in components:
                problems.add(f"{where}: components", f"{comp} needs {needed} in the same lesson")
    if len(set(components)) != len(components):
        problems.add(f"{where}: components", "lists a component twice")
    exercises = path.parent / str(data["exercises"])
    if not exercises.is_file():
        problems.add(f"{where}: exercises", f"file {exercises.name} does not exist")

    api_data = data.get("api") or {}
    problems.unknown_keys(f"{where}: api", api_data, {"replicas", "autoscale", "ingress",
                                                       "middleware"})
    middleware = tuple(api_data.get("middleware") or ())
    for name in middleware:
        if name not in MIDDLEWARES:
            problems.add(f"{where}: api.middleware",
                         f"unknown middleware {name!r} (known: {', '.join(MIDDLEWARES)})")
    worker_data = data.get("worker") or {}
    problems.unknown_keys(f"{where}: worker", worker_data, {"replicas", "autoscale"})
    runner = data.get("ci_runner", "jenkins")
    if runner not in CI_RUNNERS:
        problems.add(f"{where}: ci_runner",
                     f"unknown CI runner {runner!r} (known: {', '.join(CI_RUNNERS)})")
    replicas = {"api.replicas": api_data.get("replicas", 1),
                "worker.replicas": worker_data.get("replicas", 1)}
    for key, value in replicas.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.add(f"{where}: {key}", f"{value!r} must be a whole number >= 1")
        elif profile in profiles and value > profiles[profile].max_replicas:
            problems.add(f"{where}: {key}", f"{value} is more than profile {profile}'s "
                         f"max_replicas {profiles[profile].max_replicas}")
    if len(problems.items) != start:
        return None

    lesson = Lesson(
        number=number,
        slug=path.parent.name,
        title=str(data["title"]),
        summary=str(data["summary"]),
        profile=profile,
        components=tuple(components),
        exercises=exercises,
        api=ApiSettings(replicas=replicas["api.replicas"],
                        autoscale=bool(api_data.get("autoscale", False)),
                        ingress=bool(api_data.get("ingress", False)), middleware=middleware),
        worker=WorkerSettings(replicas=replicas["worker.replicas"],
                              autoscale=bool(worker_data.get("autoscale", False))),
        ci_runner=runner,
    )
    # Imported here: sizing needs the Lesson type defined above.
    from labs.sizing import quota_problems

    for problem in quota_problems(lesson, profiles[profile]):
        problems.add(f"{where}: profile", problem)
    return lesson


def load_catalog(root: Path = LESSONS_DIR) -> Catalog:
    """Load and check every lesson and profile under `root`; raise CatalogError listing all."""
    problems = _Problems()
    raw_profiles = _read_yaml(root / "profiles.yaml", problems)
    profiles: dict[str, Profile] = {}
    if raw_profiles is not None and not isinstance(raw_profiles, Mapping):
        problems.add("profiles.yaml", "must map profile names to profiles")
    elif raw_profiles:
        for name, data in raw_profiles.items():
            prof = _profile(root / "profiles.yaml", str(name), data, problems)
            if prof is not None:
                profiles[prof.name] = prof

    lessons: dict[int, Lesson] = {}
    for path in sorted(root.glob("*/lesson.yaml")):
        lesson = _lesson(path, _read_yaml(path, problems), profiles, problems)
        if lesson is None:
            continue
        if lesson.number in lessons:
            problems.add(f"{path.parent.name}/lesson.yaml: number",
                         f"lesson {lesson.number} is also {lessons[lesson.number].slug}")
        lessons[lesson.number] = lesson
    if not lessons and not problems.items:
        problems.add(str(root), "no */lesson.yaml found")
    if problems.items:
        raise CatalogError(problems.items)
    return Catalog(lessons=dict(sorted(lessons.items())), profiles=profiles)


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package, loaded once per process."""
    return load_catalog()

"""LabSpec: everything one learner's environment needs, built and validated once.

Built from command-line flags or from Pulumi stack config (the same keys both ways), before
anything touches a cluster. Bad input raises SpecError listing every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from labs.catalog import CI_RUNNERS, Catalog, Lesson, Profile, default_catalog
from labs.image_catalog import upstream
from labs.names import label_problem, namespace_for
from labs.problems import ProblemsError

DEFAULT_COHORT = "local"
DEFAULT_DOMAIN = "labs.localhost"
DEFAULT_REGISTRY = "localhost:5001"
DEFAULT_TAG = "latest"
# ciRunner value for "no runner": lesson 5 offline, where no runner image can be had.
NO_CI_RUNNER = "none"


class SpecError(ProblemsError):
    """The requested environment is invalid; `problems` names each bad field."""

    heading = "invalid lab settings"


@dataclass(frozen=True)
class ImageSet:
    """Container images (labs/image_catalog.py names them). `api`, `chapa_sandbox` and
    `jenkins` are built from this repository."""

    api: str
    chapa_sandbox: str
    postgres: str = upstream("postgres")
    rabbitmq: str = upstream("rabbitmq")
    mailpit: str = upstream("mailpit")  # the version `invoke toolchain` builds
    jenkins: str = "jenkins/jenkins:lts-jdk21"  # needs the plugins of labs/ci/jenkins
    github_runner: str = upstream("github_runner")

    @classmethod
    def for_registry(cls, registry: str, tag: str = DEFAULT_TAG) -> ImageSet:
        return cls(api=f"{registry}/{upstream('api')}:{tag}",
                   chapa_sandbox=f"{registry}/{upstream('chapa_sandbox')}:{tag}",
                   jenkins=f"{registry}/{upstream('jenkins')}:{tag}")


def with_tag(image: str, tag: str) -> str:
    """`registry:5001/x/api:latest` -> `registry:5001/x/api:<tag>` (a port is not a tag)."""
    name, sep, old = image.rpartition(":")
    base = name if sep and "/" not in old else image
    return f"{base}:{tag}"


# Stack config key (in the `prodev-labs` namespace) for each ImageSet field.
IMAGE_KEYS: Mapping[str, str] = {f.name: f"image{f.name.title().replace('_', '')}"
                                 for f in fields(ImageSet)}


@dataclass(frozen=True)
class LabSpec:
    cohort: str
    learner: str
    lesson: Lesson
    profile: Profile
    images: ImageSet
    ci_runner: str
    ingress_domain: str = DEFAULT_DOMAIN
    ingress_class: str | None = None
    ingress_namespace: str = "traefik"
    registry: str = DEFAULT_REGISTRY
    build_images: bool = False
    github_repo: str | None = None
    storage_class: str | None = None
    expires: date | None = None
    app_source: str | None = None  # build context of the API image (a learner's app copy)

    @property
    def namespace(self) -> str:
        return namespace_for(self.cohort, self.learner)

    @property
    def stack_name(self) -> str:
        return self.namespace

    @property
    def ingress_host(self) -> str:
        return f"{self.learner}.{self.ingress_domain}"

    def deploys(self, component: str) -> bool:
        if component == "ci_runner" and self.ci_runner == NO_CI_RUNNER:
            return False
        return self.lesson.deploys(component)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def build_spec(values: Mapping[str, Any], catalog: Catalog | None = None) -> LabSpec:
    """Validate flag/config values (keys as in `to_config`) into a LabSpec."""
    catalog = catalog or default_catalog()
    problems: list[str] = []
    known = {"cohort", "learner", "lesson", "profile", "ciRunner", "ingressDomain",
             "ingressClass", "ingressNamespace", "registry", "buildImages", "githubRepo",
             "storageClass", "expires", "appSource", *IMAGE_KEYS.values()}
    for key in sorted(set(values) - known):
        problems.append(f"{key}: unknown setting (known: {', '.join(sorted(known))})")

    cohort = str(values.get("cohort") or DEFAULT_COHORT)
    learner = str(values.get("learner") or "")
    for what, value in (("cohort", cohort), ("learner", learner)):
        if (problem := label_problem(value, what)) is not None:
            problems.append(problem)
    ns_problem = label_problem(namespace_for(cohort, learner), "namespace <cohort>-<learner>")
    if cohort and learner and ns_problem and not problems:
        problems.append(ns_problem)

    lesson: Lesson | None = None
    try:
        lesson = catalog.lesson(int(values.get("lesson", 0)))
    except (KeyError, ValueError, TypeError) as exc:
        problems.append(f"lesson: {str(exc).strip(chr(39))}" if isinstance(exc, KeyError)
                        else f"lesson: {values.get('lesson')!r} is not a lesson number")

    profile: Profile | None = None
    profile_name = values.get("profile") or (lesson.profile if lesson else None)
    if profile_name:
        try:
            profile = catalog.profile(str(profile_name))
        except KeyError as exc:
            problems.append(f"profile: {str(exc).strip(chr(39))}")

    runner = str(values.get("ciRunner") or (lesson.ci_runner if lesson else "jenkins"))
    if runner not in (*CI_RUNNERS, NO_CI_RUNNER):
        problems.append(f"ciRunner: unknown CI runner {runner!r} (known: {', '.join(CI_RUNNERS)})")
    github_repo = values.get("githubRepo") or None
    if lesson and lesson.deploys("ci_runner") and runner == "github-actions":
        if not github_repo:
            problems.append("githubRepo: the GitHub Actions runner needs the repository URL "
                            "it registers with (https://github.com/OWNER/REPO)")
        elif not str(github_repo).startswith("https://"):
            problems.append(f"githubRepo: {github_repo!r} must be an https:// URL")

    domain = str(values.get("ingressDomain") or DEFAULT_DOMAIN)
    for part in domain.split("."):
        if (problem := label_problem(part, "ingressDomain part")) is not None:
            problems.append(problem)
            break

    expires = None
    if values.get("expires"):
        try:
            expires = date.fromisoformat(str(values["expires"]))
        except ValueError:
            problems.append(f"expires: {values['expires']!r} is not a date like 2026-12-31")

    app_source = str(values["appSource"]) if values.get("appSource") else None
    if app_source and not (Path(app_source) / "Dockerfile").is_file():
        problems.append(f"appSource: {app_source} has no Dockerfile (it must be a copy of the "
                        "sample app, e.g. the one `lab up` made for the lesson)")

    registry = str(values.get("registry") or DEFAULT_REGISTRY)
    images = ImageSet.for_registry(registry)
    overrides = {name: str(values[key]) for name, key in IMAGE_KEYS.items() if values.get(key)}
    images = replace(images, **overrides)

    if problems or lesson is None or profile is None:
        raise SpecError(problems)
    return LabSpec(
        cohort=cohort,
        learner=learner,
        lesson=lesson,
        profile=profile,
        images=images,
        ci_runner=runner,
        ingress_domain=domain,
        ingress_class=values.get("ingressClass") or None,
        ingress_namespace=str(values.get("ingressNamespace") or LabSpec.ingress_namespace),
        registry=registry,
        build_images=_truthy(values.get("buildImages", False)),
        github_repo=github_repo,
        storage_class=values.get("storageClass") or None,
        expires=expires,
        app_source=app_source,
    )


def to_config(spec: LabSpec) -> dict[str, str]:
    """Stack config values (namespace `prodev-labs`) that rebuild the same spec."""
    cfg = {
        "cohort": spec.cohort,
        "learner": spec.learner,
        "lesson": str(spec.lesson.number),
        "profile": spec.profile.name,
        "ciRunner": spec.ci_runner,
        "ingressDomain": spec.ingress_domain,
        "ingressNamespace": spec.ingress_namespace,
        "registry": spec.registry,
        "buildImages": "true" if spec.build_images else "false",
    }
    optional = {"ingressClass": spec.ingress_class, "githubRepo": spec.github_repo,
                "storageClass": spec.storage_class, "appSource": spec.app_source,
                "expires": spec.expires.isoformat() if spec.expires else None}
    cfg.update({k: v for k, v in optional.items() if v})
    defaults = ImageSet.for_registry(spec.registry)
    for name, key in IMAGE_KEYS.items():
        if getattr(spec.images, name) != getattr(defaults, name):
            cfg[key] = getattr(spec.images, name)
    return cfg

"""Which images a learner's environment runs on a target, and getting them there.

On a kind cluster made with offline images (`cluster.json` says so), every image the lesson
needs is built here and pushed to the cluster's registry (infra/images/offline.py); the spec
then names those content tags and builds nothing in the Pulumi program. Roles that cannot be
had offline (Jenkins, the GitHub runner) are left out with a note saying why; the rest deploys.
Elsewhere the spec is unchanged: upstream images, built by pulumi-docker where the spec asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from infra.automation import ClusterTarget
from infra.cluster import kind
from infra.images.offline import offline_images
from labs.image_catalog import BY_ROLE
from labs.spec import NO_CI_RUNNER, LabSpec

Say = Callable[[str], None]
CI_ROLE = {"jenkins": "jenkins", "github-actions": "github_runner"}


@dataclass(frozen=True)
class LabImages:
    spec: LabSpec
    notes: tuple[str, ...] = ()  # what was left out, and why


def kind_cluster_name(target: ClusterTarget) -> str | None:
    """The kind cluster a target's kubeconfig belongs to (state_dir(name)/kubeconfig)."""
    if target.driver != "kind":
        return None
    return target.kubeconfig.parent.name


def image_mode(target: ClusterTarget) -> str:
    """offline: the kind cluster was built from this machine's images; else upstream."""
    name = kind_cluster_name(target)
    if name is None:
        return "upstream"
    return "offline" if kind.recorded(name).get("images") == "offline" else "upstream"


def roles_for(spec: LabSpec) -> list[str]:
    """The catalog roles the spec's components run (the worker runs the API image)."""
    roles = []
    if spec.deploys("api") or spec.deploys("worker"):
        roles.append("api")
    roles += [c for c in ("postgres", "rabbitmq", "mailpit", "chapa_sandbox") if spec.deploys(c)]
    return roles


def offline_spec(spec: LabSpec, say: Say, app_source: Path | None = None) -> LabImages:
    """`spec` with every image built here and pushed to the registry; notes for the rest."""
    notes: list[str] = []
    if spec.deploys("ci_runner"):
        role = CI_ROLE[spec.ci_runner]
        notes.append(f"lesson {spec.lesson.number}: no {spec.ci_runner} runner in offline mode "
                     f"({BY_ROLE[role].why_not_offline}); the rest of the lab is deployed, and "
                     f"`invoke lab check --lesson {spec.lesson.number}` checks your pipeline "
                     "files without it")
        spec = replace(spec, ci_runner=NO_CI_RUNNER)
    refs = offline_images(roles_for(spec), spec.registry, say, app_source)
    images = replace(spec.images, **refs)
    return LabImages(replace(spec, images=images, build_images=False, app_source=None),
                     tuple(notes))

"""Every container image a learner's environment runs, named in one place.

Two sets. Upstream: the official images, for a machine that can pull (the API, worker and Chapa
sandbox are built from this repository's Dockerfiles on the official Python image). Offline:
the same roles built on this machine from Debian's packages and host-built wheels
(infra/images/offline.py, Dockerfiles in labs/images/), tagged by content and pushed to the
kind cluster's registry. Jenkins and the GitHub Actions runner have no offline build: their
releases come only from registries and download sites.
"""

from __future__ import annotations

from dataclasses import dataclass

PYTHON_BASE = "python:3.13-slim"  # the upstream base of every image built from a Dockerfile here


@dataclass(frozen=True)
class CatalogImage:
    role: str  # an ImageSet field of labs/spec.py, or "loadgen" (the load-test Job)
    upstream: str  # the image pulled, or the repository name built here in both modes
    offline: str | None  # what infra/images/offline.py builds, None when it cannot be had
    stands_in_for: str  # the contract the offline build keeps
    why_not_offline: str = ""


CATALOG: tuple[CatalogImage, ...] = (
    CatalogImage("api", "prodev-labs/api", "api", f"labs/app/Dockerfile on {PYTHON_BASE}"),
    CatalogImage("chapa_sandbox", "prodev-labs/chapa-sandbox", "chapa-sandbox",
                 f"labs/chapa_sandbox/Dockerfile on {PYTHON_BASE}"),
    CatalogImage("postgres", "postgres:17", "postgres", "postgres:17"),
    CatalogImage("rabbitmq", "rabbitmq:4.1-management", "rabbitmq", "rabbitmq:4.1-management"),
    CatalogImage("mailpit", "axllent/mailpit:v1.33.1", "mailpit", "axllent/mailpit:v1.33.1"),
    CatalogImage("loadgen", "locustio/locust:2.47.0", "locust", "locustio/locust:2.47.0"),
    CatalogImage("jenkins", "prodev-labs/jenkins", None, "jenkins/jenkins:lts-jdk21",
                 "Jenkins and its plugins are published only on Docker Hub and "
                 "updates.jenkins.io, which this machine cannot reach"),
    CatalogImage("github_runner", "ghcr.io/actions/actions-runner:2.329.0", None,
                 "ghcr.io/actions/actions-runner",
                 "the runner is published only on ghcr.io and github.com, which this machine "
                 "cannot reach (and it needs github.com to take jobs)"),
)
BY_ROLE: dict[str, CatalogImage] = {image.role: image for image in CATALOG}
# Built from this repository in both modes: the reference is the registry's, not a pull.
BUILT_HERE = ("api", "chapa_sandbox", "jenkins")


def upstream(role: str) -> str:
    return BY_ROLE[role].upstream


def unavailable_offline() -> dict[str, str]:
    """Role -> why it cannot be had on a machine without a container registry."""
    return {i.role: i.why_not_offline for i in CATALOG if i.offline is None}

"""Per-learner secrets: generated once, stored as Pulumi secret config, never printed.

`invoke lab up` fills in whichever are missing before the first deployment, so an update
never rotates a password under a running database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratedSecret:
    key: str  # stack config key (namespace prodev-labs)
    make: Callable[[], str]


def _token(n: int = 24) -> Callable[[], str]:
    return lambda: secrets.token_urlsafe(n)


GENERATED: tuple[GeneratedSecret, ...] = (
    GeneratedSecret("postgresPassword", _token()),
    GeneratedSecret("rabbitmqPassword", _token()),
    GeneratedSecret("djangoSecretKey", _token(48)),
    # The sandbox accepts keys of Chapa's test format, so learners see realistic values.
    GeneratedSecret("chapaSecretKey", lambda: "CHASECK_TEST-" + secrets.token_hex(16)),
    GeneratedSecret("chapaWebhookSecret", _token()),
    GeneratedSecret("jenkinsAdminPassword", _token()),
)
# Given by the user, never generated: the runner registration token from GitHub.
GITHUB_RUNNER_TOKEN = "githubRunnerToken"


def missing(existing: Iterable[str]) -> dict[str, str]:
    """Fresh values for every generated secret whose key is not in `existing`."""
    have = set(existing)
    return {s.key: s.make() for s in GENERATED if s.key not in have}

"""Kubernetes-safe names for cohorts, learners and their namespaces (RFC 1123 labels)."""

from __future__ import annotations

import getpass
import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_LABEL = 63


def label_problem(value: str, what: str) -> str | None:
    """Why `value` is not a valid RFC 1123 label, or None when it is."""
    if not value:
        return f"{what} is empty"
    if len(value) > MAX_LABEL:
        return f"{what} {value!r} is {len(value)} characters; at most {MAX_LABEL} are allowed"
    if not DNS1123_LABEL.match(value):
        return (f"{what} {value!r} must be lower-case letters, digits and '-', "
                "starting and ending with a letter or digit")
    return None


def namespace_for(cohort: str, learner: str) -> str:
    return f"{cohort}-{learner}"


def sanitise(raw: str) -> str:
    """Turn a login or display name into a label: 'Abebe.Kebede_2' -> 'abebe-kebede-2'."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")
    return cleaned[:MAX_LABEL].rstrip("-")


def default_learner() -> str:
    """The sanitised login name of whoever runs the command."""
    return sanitise(getpass.getuser()) or "learner"

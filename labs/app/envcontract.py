"""The environment variables the sample app reads: one definition shared by the app and Pulumi.

The app's settings read every value through `value()`; the Pulumi program wires every
variable listed here into the API and worker containers. A contract test keeps both sides
equal. This module must stay importable without Django (it ships inside the app image and is
imported by infra/ from the provisioner).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum


class Source(str, Enum):
    """Where the provisioner takes a variable's value from."""

    APP_SECRET = "app-secret"  # generated per learner, in the app Secret
    POSTGRES = "postgres"  # the Postgres component's Service and Secret
    RABBITMQ = "rabbitmq"  # the RabbitMQ component's Service and Secret
    MAIL = "mail"  # the mail catcher Service (lesson 7) or a configured relay
    PAYMENTS = "payments"  # Chapa sandbox Service or a configured test key
    SETTING = "setting"  # a plain per-lesson setting (feature switches, hosts)


@dataclass(frozen=True)
class EnvVar:
    name: str
    source: Source
    default: str | None
    secret: bool = False
    help: str = ""


VARIABLES: tuple[EnvVar, ...] = (
    EnvVar("DJANGO_SECRET_KEY", Source.APP_SECRET, None, secret=True,
           help="Django's signing key"),
    EnvVar("DJANGO_DEBUG", Source.SETTING, "false", help="'true' only for local development"),
    EnvVar("DJANGO_ALLOWED_HOSTS", Source.SETTING, "localhost,127.0.0.1",
           help="comma-separated host names the API answers"),
    EnvVar("POSTGRES_HOST", Source.POSTGRES, "localhost"),
    EnvVar("POSTGRES_PORT", Source.POSTGRES, "5432"),
    EnvVar("POSTGRES_DB", Source.POSTGRES, "app"),
    EnvVar("POSTGRES_USER", Source.POSTGRES, "app"),
    EnvVar("POSTGRES_PASSWORD", Source.POSTGRES, "", secret=True),
    EnvVar("RABBITMQ_HOST", Source.RABBITMQ, "localhost"),
    EnvVar("RABBITMQ_PORT", Source.RABBITMQ, "5672"),
    EnvVar("RABBITMQ_USER", Source.RABBITMQ, "guest"),
    EnvVar("RABBITMQ_PASSWORD", Source.RABBITMQ, "guest", secret=True),
    EnvVar("RABBITMQ_VHOST", Source.RABBITMQ, "/"),
    # An explicit switch rather than an empty RABBITMQ_HOST: a missing value must not
    # silently turn the broker off. Not CELERY_BROKER: the celery command reads every
    # CELERY_<option> variable as its own option (--broker), which broke the worker on kind.
    EnvVar("TASK_BROKER", Source.RABBITMQ, "rabbitmq",
           help="'rabbitmq': Celery publishes to RABBITMQ_* and /readyz checks that broker; "
                "'none' (lessons without RabbitMQ): no broker, queued tasks run eagerly in "
                "the process that queues them and /readyz checks only the database"),
    EnvVar("EMAIL_HOST", Source.MAIL, "localhost"),
    EnvVar("EMAIL_PORT", Source.MAIL, "1025"),
    EnvVar("DEFAULT_FROM_EMAIL", Source.SETTING, "labs@prodev.dev"),
    EnvVar("CHAPA_BASE_URL", Source.PAYMENTS, "https://api.chapa.co"),
    EnvVar("CHAPA_SECRET_KEY", Source.PAYMENTS, "", secret=True),
    EnvVar("CHAPA_WEBHOOK_SECRET", Source.PAYMENTS, "", secret=True),
    EnvVar("LAB_MIDDLEWARE", Source.SETTING, "",
           help="comma-separated lesson-2 middlewares to switch on: "
                "request_logging,access_hours,post_rate_limit,role_permission"),
    EnvVar("LAB_ACCESS_HOURS", Source.SETTING, "18:00-21:00",
           help="HH:MM-HH:MM window (server time zone) the access_hours middleware allows"),
    EnvVar("LAB_POST_RATE_LIMIT", Source.SETTING, "5",
           help="POST requests per minute per client IP the post_rate_limit middleware allows"),
    EnvVar("APP_PUBLIC_URL", Source.SETTING, "",
           help="base URL Chapa calls back (callback_url); empty: taken from the request"),
    EnvVar("ACCESS_LOG_SAMPLE", Source.SETTING, "0.01",
           help="share of ordinary requests the access log writes (0..1); errors and slow "
                "requests are always written"),
    # Benchmark baseline only (bench/api.py): never on in a learner's environment.
    EnvVar("LAB_NAIVE_QUERIES", Source.SETTING, "false",
           help="'true' switches the selectors to N+1 queries and turns caching off "
                "(the naive baseline of the API benchmark)"),
)

BY_NAME: dict[str, EnvVar] = {v.name: v for v in VARIABLES}


def value(name: str) -> str:
    """Read one contracted variable; an undeclared name is a programming error."""
    var = BY_NAME[name]
    raw = os.environ.get(name)
    if raw is not None:
        return raw
    if var.default is None:
        raise RuntimeError(f"environment variable {name} is required ({var.help or var.source})")
    return var.default


# The Django project's Celery app (`celery -A <CELERY_APP> worker`).
CELERY_APP = "config"

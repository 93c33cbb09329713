"""The sample app's environment, wired from labs/app/envcontract.py and the learner's objects.

Every variable of the contract is set on the API, worker and beat containers: secret ones by
reference to a Secret, the rest as plain values. Where a lesson does not deploy the component a
variable points at, the contract's default is used, except for credentials: a secret variable
is never a plain value, so without its component (RabbitMQ in lessons 1, 2 and 5) it is left
out and the app falls back to its own default. Without RabbitMQ the app is also told there is no
broker (TASK_BROKER=none): its /readyz then waits for the database alone and tasks run in the
API process, rather than the pod never becoming Ready for want of a broker on localhost.
"""

from __future__ import annotations

from typing import Any

from infra.components import postgres, rabbitmq
from infra.components.containers import secret_env
from labs.app.envcontract import VARIABLES
from labs.spec import LabSpec

APP_SECRET = "app-secrets"
MAILPIT_SERVICE = "mailpit"
MAILPIT_SMTP_PORT = 1025
CHAPA_SANDBOX_SERVICE = "chapa-sandbox"
CHAPA_SANDBOX_PORT = 80

# Secret-backed variables: (Secret name, key). The component must be deployed.
SECRET_REFS: dict[str, tuple[str, str, str | None]] = {
    # name: (secret, key, component that must be deployed or None)
    "DJANGO_SECRET_KEY": (APP_SECRET, "django-secret-key", None),
    "POSTGRES_USER": (postgres.SECRET, "username", "postgres"),
    "POSTGRES_PASSWORD": (postgres.SECRET, "password", "postgres"),
    "POSTGRES_DB": (postgres.SECRET, "database", "postgres"),
    "RABBITMQ_USER": (rabbitmq.SECRET, "username", "rabbitmq"),
    "RABBITMQ_PASSWORD": (rabbitmq.SECRET, "password", "rabbitmq"),
    "CHAPA_SECRET_KEY": (APP_SECRET, "chapa-secret-key", None),
    "CHAPA_WEBHOOK_SECRET": (APP_SECRET, "chapa-webhook-secret", None),
}


def plain_values(spec: LabSpec) -> dict[str, str]:
    """Non-secret values this learner's environment gives the app."""
    values = {
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": ",".join(["api", f"api.{spec.namespace}.svc", "localhost",
                                          "127.0.0.1", spec.ingress_host]),
        "LAB_MIDDLEWARE": ",".join(spec.lesson.api.middleware),
    }
    if "access_hours" in spec.lesson.api.middleware:
        # Open around the clock, so the lab (and its checks) work at any hour; learners try
        # a window with `kubectl set env deploy/api LAB_ACCESS_HOURS=18:00-21:00`.
        values["LAB_ACCESS_HOURS"] = "00:00-24:00"
    if spec.deploys("postgres"):
        values |= {"POSTGRES_HOST": postgres.SERVICE, "POSTGRES_PORT": str(postgres.PORT)}
    if spec.deploys("rabbitmq"):
        values |= {"RABBITMQ_HOST": rabbitmq.SERVICE, "RABBITMQ_PORT": str(rabbitmq.AMQP_PORT),
                   "RABBITMQ_VHOST": rabbitmq.VHOST, "TASK_BROKER": "rabbitmq"}
    else:
        values["TASK_BROKER"] = "none"
    if spec.deploys("mailpit"):
        values |= {"EMAIL_HOST": MAILPIT_SERVICE, "EMAIL_PORT": str(MAILPIT_SMTP_PORT)}
    if spec.deploys("chapa_sandbox"):
        values["CHAPA_BASE_URL"] = f"http://{CHAPA_SANDBOX_SERVICE}:{CHAPA_SANDBOX_PORT}"
    return values


def app_env(spec: LabSpec) -> list[dict[str, Any]]:
    """Container env for the API, migration Job, worker and beat (same for all)."""
    plain = plain_values(spec)
    env: list[dict[str, Any]] = []
    for var in VARIABLES:
        ref = SECRET_REFS.get(var.name)
        if ref is not None and (ref[2] is None or spec.deploys(ref[2])):
            env.append(secret_env(var.name, ref[0], ref[1]))
        elif var.secret or ref is not None:
            continue  # a credential: from a Secret or not at all, never in plain env
        elif var.name in plain:
            env.append({"name": var.name, "value": plain[var.name]})
        else:
            env.append({"name": var.name, "value": var.default or ""})
    return env

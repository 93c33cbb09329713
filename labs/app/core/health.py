"""Probes: /healthz says the process serves; /readyz that its database and broker answer.

With TASK_BROKER=none there is no broker to wait for: /readyz checks the database alone and
reports the broker as "not configured".
"""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from kombu import Connection

HEALTHY = b'{"status": "ok"}'
NOT_CONFIGURED = "not configured"


def healthz(request):
    # The process answers, nothing more: no I/O, and a constant body (no JSON encoding).
    return HttpResponse(HEALTHY, content_type="application/json")


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def readyz(request):
    probes = {"database": _database}
    if settings.TASK_BROKER != "none":
        probes["broker"] = _broker
    checks = {}
    for name, check in probes.items():
        try:
            checks[name] = check()
        except Exception as exc:  # any failure means not ready; say which
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:200]
    ready = all(value == "ok" for value in checks.values())
    checks.setdefault("broker", NOT_CONFIGURED)  # reported, never a reason to be unready
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)

"""The access log: one JSON line per request worth reading, written off the request path.

gunicorn's access log writes a plain-text line for every request, probes and scrapes
included; at a few thousand requests a second that is most of the log and a share of the CPU.
This one logs, as real services do:

- every error (status >= 400: refusals are what an operator, or lesson 8's anomaly hunt,
  looks for) and every slow request (>= ACCESS_LOG_SLOW_MS, the lesson-8 SLO);
- one in 1/ACCESS_LOG_SAMPLE of the rest, each line saying its `sample` rate, so counts can
  be scaled back up (/metrics counts every request exactly).

Fields: ts, method, path, status, ms, view, queries (SQL count), user (when the request was
authenticated anyway; the log never authenticates by itself), ip, request_id
(X-Request-ID, when the client or ingress sent one). Written by logger `labs.access`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from core.middleware import client_ip
from core.querycount import HEADER as QUERY_COUNT

access_log = logging.getLogger("labs.access")


def known_user(request: HttpRequest) -> str | None:
    """The user id if something already resolved the user; never a lookup of its own."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    user = user or getattr(request, "_lab_user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk)
    return None


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.sample = settings.ACCESS_LOG_SAMPLE
        self.slow_s = settings.ACCESS_LOG_SLOW_MS / 1000

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        status = response.status_code
        if status < 400 and elapsed < self.slow_s:
            if self.sample <= 0 or random.random() >= self.sample:
                return response
            sample = self.sample
        else:
            sample = 1.0
        if access_log.isEnabledFor(logging.INFO):
            self.write(request, response, elapsed, sample)
        return response

    def write(self, request: HttpRequest, response: HttpResponse, elapsed: float,
              sample: float) -> None:
        match = getattr(request, "resolver_match", None)
        line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round(elapsed * 1000, 1), "view": match.view_name if match else None,
                "queries": int(response.get(QUERY_COUNT, 0) or 0), "user": known_user(request),
                "ip": client_ip(request), "sample": sample}
        request_id = request.META.get("HTTP_X_REQUEST_ID")
        if request_id:
            line["request_id"] = request_id[:200]
        access_log.info(json.dumps(line, separators=(",", ":")))

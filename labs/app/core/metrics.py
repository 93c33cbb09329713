"""Prometheus metrics: request count and latency per view, served at /metrics.

Under gunicorn every worker writes its metrics to files in PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py before the app loads, read by prometheus_client at import), and /metrics
adds up all workers' files: the same answer whichever worker serves the scrape.
"""

import os
import time

from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("django_http_requests_total", "HTTP requests by view, method and status",
                   ["method", "view", "status"])
LATENCY = Histogram("django_http_request_duration_seconds", "HTTP request latency by view",
                    ["method", "view"])


class PrometheusMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Labelled children by label values: labels() validates and locks on every call.
        self.latency: dict[tuple[str, str], Histogram] = {}
        self.requests: dict[tuple[str, str, int], Counter] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "<unresolved>"
        key = (request.method, view)
        latency = self.latency.get(key)
        if latency is None:
            latency = self.latency.setdefault(key, LATENCY.labels(*key))
        latency.observe(elapsed)
        status = response.status_code
        counter = self.requests.get((*key, status))
        if counter is None:
            counter = self.requests.setdefault((*key, status),
                                               REQUESTS.labels(*key, str(status)))
        counter.inc()
        return response


def metrics_view(request):
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return HttpResponse(data, content_type=CONTENT_TYPE_LATEST)

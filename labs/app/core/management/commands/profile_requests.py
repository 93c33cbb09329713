"""Where a request's time goes: `python manage.py profile_requests [--requests 400] [--json]`.

Each request goes through the app's real WSGI handler, in this process (no HTTP server: the
benchmark, bench/api.py, measures gunicorn), against the configured database, with:

- a marker between every two middlewares, so each middleware's own time (its request and
  response halves) is known;
- timers on the parts of the view: JWT decoding and the user lookup (authentication), DRF's
  dispatch, the response cache, ORM work, SQL round trips (execute_wrapper), the connection
  health check, serialization and JSON rendering.

Times are this thread's CPU time, exclusive (a part's time excludes the parts inside it), in
µs per request: the best of three rounds of --requests/3 requests each, after a warm-up. CPU
time holds still while the process waits for Postgres or another process has the core, so
the figures barely move on a busy machine; the time spent waiting for Postgres is
`sql_wait_us`, the wall time `wall_us`. "Django WSGI handler" is what is left: the request
object, the request_started/finished signals, iterating the response. `cpu_us` is the
process's CPU per request in a run without the timers (log lines are written by another
thread: counted there, not in the layers).

Two configurations: the middleware lessons 4 and 8 serve with (no lesson-2 middleware), and
lesson 2's (its four middlewares on, the access window open so nothing is refused).

It needs seeded data (`manage.py seed`) and signs in as the seeded guest with the most
conversations. Set PROMETHEUS_MULTIPROC_DIR, as gunicorn.conf.py does, to time the metrics
the way they run under gunicorn.
"""

from __future__ import annotations

import functools
import io
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

WARMUP = 50
HANDLER = "Django WSGI handler (request, signals, response)"
CORE = "Django core: URL resolving, process_view, template render"
SQL = "SQL: psycopg sending and reading (waiting: sql_wait_us)"
ENDPOINTS = {
    "GET /healthz": "/healthz",
    "GET /api/listings/ (cached)": "/api/listings/",
    "GET /api/listings/?page=N (uncached)": "/api/listings/?page=2&nocache={n}",
    "GET /api/conversations/ (cached per user)": "/api/conversations/",
    "GET /api/conversations/[id]/messages/": "/api/conversations/{conversation}/messages/",
}


class Clock:
    """Exclusive CPU time (this thread's) and wall time per category: a category's time is
    taken out of its parent's. CPU time does not run while the process waits for Postgres or
    while another process has the core, so it holds still on a busy machine."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.stack: list[list] = []  # [category, cpu at start, wall at start, children's]
        self.enabled = False

    def enter(self, category: str) -> None:
        self.stack.append([category, time.thread_time(), time.perf_counter(), 0.0, 0.0])

    def leave(self) -> None:
        category, cpu0, wall0, child_cpu, child_wall = self.stack.pop()
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        self.cpu[category] += cpu - child_cpu
        self.wall[category] += wall - child_wall
        if self.stack:
            self.stack[-1][3] += cpu
            self.stack[-1][4] += wall

    def clear(self) -> None:
        self.cpu.clear()
        self.wall.clear()

    def timed(self, category: str, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not self.enabled:
                return func(*args, **kwargs)
            self.enter(category)
            try:
                return func(*args, **kwargs)
            finally:
                self.leave()

        return wrapper

    def patch(self, owner: object, name: str, category: str) -> None:
        setattr(owner, name, self.timed(category, getattr(owner, name)))


CLOCK = Clock()


def _short(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def marker(category: str) -> type:
    """A middleware that only times what is below it (the next middleware's own layer)."""

    class Marker:
        def __init__(self, get_response: Callable) -> None:
            self.get_response = get_response

        def __call__(self, request):
            if not CLOCK.enabled:
                return self.get_response(request)
            CLOCK.enter(category)
            try:
                return self.get_response(request)
            finally:
                CLOCK.leave()

    return Marker


def instrumented(middleware: list[str]) -> list[str]:
    """`middleware` with a marker above each entry; the last marker times Django's core."""
    module = sys.modules[__name__]
    out: list[str] = []
    for path in [*middleware, None]:
        name = f"Marker{len(vars(module))}"
        setattr(module, name, marker(f"middleware: {_short(path)}" if path else CORE))
        out.append(f"{__name__}.{name}")
        if path:
            out.append(path)
    return out


def patch_parts() -> None:
    """Timers on the parts of a request that the middleware markers do not separate."""
    from django.core.cache import caches
    from django.core.cache.backends.base import BaseCache
    from django.core.handlers import base
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django.db.models.query import QuerySet
    from django.http import JsonResponse
    from rest_framework import renderers, serializers, views
    from rest_framework_simplejwt.authentication import JWTAuthentication

    CLOCK.patch(JWTAuthentication, "get_validated_token", "DRF auth: JWT decode and verify")
    CLOCK.patch(JWTAuthentication, "get_user", "DRF auth: user lookup (ORM)")
    try:  # core.auth keeps users for seconds (absent from an older tree of the app)
        from core.auth import JWTAuthentication as CachingJWTAuthentication
        CLOCK.patch(CachingJWTAuthentication, "get_user", "DRF auth: user lookup (ORM)")
    except ImportError:
        pass
    CLOCK.patch(views.APIView, "initial", "DRF: permissions, negotiation, throttles")
    CLOCK.patch(views.APIView, "finalize_response", "DRF: finalize response")
    CLOCK.patch(QuerySet, "_fetch_all", "ORM: build SQL, rows to objects")
    CLOCK.patch(QuerySet, "count", "ORM: build SQL, rows to objects")
    CLOCK.patch(serializers.Serializer, "to_representation", "serialization")
    CLOCK.patch(serializers.ListSerializer, "to_representation", "serialization")
    try:  # absent from an older tree of the app (profiled for a before/after)
        from core.serializers import FastReadMixin
    except ImportError:
        pass
    else:
        CLOCK.patch(FastReadMixin, "to_representation", "serialization")
        from core import serializers as fast

        # One zone lookup per list (absent from an older tree of the app).
        if hasattr(FastReadMixin, "represent"):
            CLOCK.patch(FastReadMixin, "represent", "serialization")
            CLOCK.patch(fast.FastListSerializer, "to_representation", "serialization")
    try:  # a planned list's page from its stored SQL (absent from an older tree of the app)
        from core import pageplan
    except ImportError:
        pass
    else:
        CLOCK.patch(pageplan, "fetch_page", "ORM: build SQL, rows to objects")
    CLOCK.patch(renderers.JSONRenderer, "render", "JSON rendering")
    CLOCK.patch(JsonResponse, "__init__", "JSON rendering")
    CLOCK.patch(DatabaseWrapper, "close_if_health_check_failed",
                "DB connection health check (SELECT 1)")
    try:  # core.postgres polls the socket first (absent from an older tree of the app)
        from core.postgres.base import DatabaseWrapper as PollingWrapper
        CLOCK.patch(PollingWrapper, "close_if_health_check_failed",
                    "DB connection health check (SELECT 1)")
    except ImportError:
        pass
    for name in ("get", "set", "add", "get_many", "set_many", "incr", "delete"):
        for klass in (type(caches["default"]), BaseCache):
            if name in vars(klass):
                CLOCK.patch(klass, name, "response cache (get/set)")

    original = base.BaseHandler.resolve_request

    def resolve_request(self, request):
        match = original(self, request)
        match.func = CLOCK.timed("view: DRF dispatch and view code", match.func)
        return match

    base.BaseHandler.resolve_request = resolve_request


def environ(path: str, token: str) -> dict:
    route, _, query = path.partition("?")
    return {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False}


def call(app: WSGIHandler, path: str, token: str) -> tuple[str, dict]:
    status: list[str] = []
    headers: dict = {}

    def start_response(s, h, exc_info=None):
        status.append(s)
        headers.update(h)

    body = app(environ(path, token), start_response)
    try:
        b"".join(body)
    finally:
        body.close()
    return status[0], headers


class Command(BaseCommand):
    help = "Profile requests in process: µs per middleware and per part of the view."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--requests", type=int, default=400, help="per endpoint (400)")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args, **opts) -> None:
        if not 10 <= opts["requests"] <= 100_000:
            raise CommandError("--requests must be 10..100000")
        self.requests = opts["requests"]
        self.token, conversation = self.sign_in()
        self.paths = {name: path.replace("{conversation}", conversation)
                      for name, path in ENDPOINTS.items()}
        patch_parts()
        base = [m for m in settings.MIDDLEWARE if not m.startswith("core.middleware.")]
        at = base.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        lesson2 = base[:at] + list(settings.LAB_MIDDLEWARE_CLASSES.values()) + base[at:]
        settings.LAB_ACCESS_HOURS = "00:00-24:00"
        from prometheus_client import values

        doc = {"requests_per_endpoint": self.requests, "python": sys.version.split()[0],
               "metrics_multiprocess": values.ValueClass is not values.MutexValue,
               "configs": [self.profile("lessons 4 and 8 (no lesson-2 middleware)", base),
                           self.profile("lesson 2 (its four middlewares on)", lesson2)]}
        if opts["json"]:
            self.stdout.write(json.dumps(doc))
        else:
            self.stdout.write(render(doc))

    def sign_in(self) -> tuple[str, str]:
        from django.db.models import Count
        from rest_framework_simplejwt.tokens import RefreshToken

        from accounts.models import User
        from chats.models import Conversation

        user = (User.objects.filter(role="guest").annotate(n=Count("conversations"))
                .filter(n__gt=0).order_by("-n", "email").first())
        if user is None:
            raise CommandError("no guest with a conversation: run `manage.py seed` first")
        conversation = Conversation.objects.filter(participants=user).values_list(
            "conversation_id", flat=True).first()
        return str(RefreshToken.for_user(user).access_token), str(conversation)

    def profile(self, name: str, middleware: list[str]) -> dict:
        settings.MIDDLEWARE = instrumented(middleware)
        app = WSGIHandler()
        counter = [0]
        return {"name": name, "middleware": ", ".join(_short(m) for m in middleware),
                "endpoints": {label: self.measure(app, path, counter)
                              for label, path in self.paths.items()}}

    def measure(self, app: WSGIHandler, template: str, counter: list[int]) -> dict[str, Any]:
        def path() -> str:
            counter[0] += 1
            return template.format(n=counter[0])

        for _ in range(WARMUP):
            call(app, path(), self.token)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(self.requests):
            call(app, path(), self.token)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

        def sql(execute, *args):
            CLOCK.enter(SQL)
            try:
                return execute(*args)
            finally:
                CLOCK.leave()

        # Rounds of the timed run: the one with the least CPU is kept (a burst of other work
        # on the machine only ever adds).
        best: dict[str, Any] | None = None
        rounds, per_round = 3, max(self.requests // 3, 1)
        for _ in range(rounds):
            CLOCK.clear()
            queries = 0
            CLOCK.enabled = True
            try:
                with connections["default"].execute_wrapper(sql):
                    for _ in range(per_round):
                        CLOCK.enter(HANDLER)
                        status, headers = call(app, path(), self.token)
                        CLOCK.leave()
                        queries += int(headers.get("X-DB-Query-Count", 0))
            finally:
                CLOCK.enabled = False
            if not status.startswith("200"):
                raise CommandError(f"{template}: {status}")
            n = per_round
            layers = {k: round(v / n * 1e6, 1)
                      for k, v in sorted(CLOCK.cpu.items(), key=lambda kv: -kv[1])}
            sql_wait = CLOCK.wall.get(SQL, 0.0) - CLOCK.cpu.get(SQL, 0.0)
            result = {"total_us": round(sum(CLOCK.cpu.values()) / n * 1e6, 1),
                      "wall_us": round(sum(CLOCK.wall.values()) / n * 1e6, 1),
                      "sql_wait_us": round(sql_wait / n * 1e6, 1),
                      "uninstrumented_us": round(wall / self.requests * 1e6, 1),
                      "cpu_us": round(cpu / self.requests * 1e6, 1),
                      "queries": round(queries / n, 2), "layers_us": layers}
            if best is None or result["total_us"] < best["total_us"]:
                best = result
        assert best is not None
        return best


def render(doc: dict) -> str:
    """The profile as plain-text tables, one per configuration."""
    out = []
    for config in doc["configs"]:
        names = list(config["endpoints"])
        layers: list[str] = []
        for name in names:
            layers += [k for k in config["endpoints"][name]["layers_us"] if k not in layers]
        width = max(len(k) for k in layers)
        out.append(f"\n{config['name']}: µs per request\n  middleware: {config['middleware']}")
        for i, name in enumerate(names, 1):
            out.append(f"  [{i}] {name}")
        out.append(" " * width + "".join(f"{f'[{i}]':>9}" for i in range(1, len(names) + 1)))
        rows = [(k, [config["endpoints"][n]["layers_us"].get(k) for n in names])
                for k in layers]
        rows += [("total CPU", [config["endpoints"][n]["total_us"] for n in names]),
                 ("waiting for Postgres", [config["endpoints"][n]["sql_wait_us"]
                                           for n in names]),
                 ("cpu (no timers)", [config["endpoints"][n]["cpu_us"] for n in names]),
                 ("SQL queries", [config["endpoints"][n]["queries"] for n in names])]
        for label, values in rows:
            out.append(label.ljust(width) + "".join(
                f"{'-' if v is None else f'{v:,.0f}' if v >= 10 else f'{v:g}':>9}"
                for v in values))
    return "\n".join(out) + "\n"

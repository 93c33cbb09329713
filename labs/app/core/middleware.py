"""Lesson 2 middlewares, each switched on by name in LAB_MIDDLEWARE (see settings).

DRF authenticates inside views, so a middleware sees only session users in request.user;
`request_user()` also accepts a JWT bearer token so these rules apply to API clients too.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import time as dtime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from core.auth import JWTAuthentication

request_log = logging.getLogger("labs.requests")

# Probes and scrapes must keep working whatever the lab rules say.
ALWAYS_ALLOWED = ("/healthz", "/readyz", "/metrics")


def request_user(request):
    if hasattr(request, "_lab_user"):
        return request._lab_user
    user = getattr(request, "user", None) or AnonymousUser()
    if not user.is_authenticated:
        try:
            result = JWTAuthentication().authenticate(request)
        except (InvalidToken, TokenError, AuthenticationFailed):
            result = None
        if result:
            user = result[0]
            request._lab_auth = result  # DRF takes it from here (core/auth.py)
    request._lab_user = user
    return user


def client_ip(request) -> str:
    # Behind the lab's ingress the peer is the ingress controller; it appends the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _exempt(request) -> bool:
    return request.path.startswith(ALWAYS_ALLOWED)


class RequestLoggingMiddleware:
    """Logs `<time> - User: <user> - Path: <path>` for every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request_user(request)
        request_log.info("%s - User: %s - Path: %s", datetime.now(),
                         user if user.is_authenticated else "AnonymousUser", request.path)
        return self.get_response(request)


def parse_window(text: str) -> tuple[dtime, dtime]:
    start, end = (part.strip() for part in text.split("-", 1))
    return dtime.fromisoformat(start), (dtime.max if end == "24:00" else dtime.fromisoformat(end))


class AccessHoursMiddleware:
    """403 outside the LAB_ACCESS_HOURS window (e.g. 18:00-21:00; may wrap midnight)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.start, self.end = parse_window(settings.LAB_ACCESS_HOURS)

    def allowed(self, now: dtime) -> bool:
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def __call__(self, request):
        if not _exempt(request) and not self.allowed(timezone.localtime().time()):
            return JsonResponse(
                {"detail": f"Access is allowed only between {settings.LAB_ACCESS_HOURS}."},
                status=403)
        return self.get_response(request)


class PostRateLimitMiddleware:
    """At most LAB_POST_RATE_LIMIT POST requests per minute per client IP, else 429.

    Counts live in Django's cache: per process with the default local-memory cache, shared
    between replicas once the cache is Redis (lesson 8).
    """

    window_seconds = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # BEGIN SOLUTION lesson 2
        if request.method == "POST" and not _exempt(request):
            window = int(time.time() // self.window_seconds)
            key = f"lab:post-rate:{client_ip(request)}:{window}"
            cache.add(key, 0, timeout=self.window_seconds * 2)
            try:
                count = cache.incr(key)
            except ValueError:  # evicted between add and incr
                cache.set(key, 1, timeout=self.window_seconds * 2)
                count = 1
            if count > settings.LAB_POST_RATE_LIMIT:
                response = JsonResponse(
                    {"detail": f"At most {settings.LAB_POST_RATE_LIMIT} POST requests "
                               f"per minute."}, status=429)
                response["Retry-After"] = str(self.window_seconds - int(time.time()) % 60)
                return response
        # STARTER
        # # TODO: answer 429 to the 6th POST within a minute from the same client IP
        # END SOLUTION
        return self.get_response(request)


class RolePermissionMiddleware:
    """Only admins and moderators reach the protected paths (LAB_PROTECTED_PATH_PREFIXES)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # BEGIN SOLUTION lesson 2
        path = request.path
        if path.startswith(settings.LAB_PROTECTED_PATH_PREFIXES) \
                and not path.startswith("/admin/login/"):
            user = request_user(request)
            role = getattr(user, "role", None)
            if not user.is_authenticated or role not in settings.LAB_PRIVILEGED_ROLES:
                return JsonResponse({"detail": "Admins and moderators only."}, status=403)
        # STARTER
        # # TODO: only admins and moderators reach LAB_PROTECTED_PATH_PREFIXES (else 403)
        # END SOLUTION
        return self.get_response(request)

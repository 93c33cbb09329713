"""Lesson 2 middlewares, switched on per test the way LAB_MIDDLEWARE switches them on."""

import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

LAB = {
    "request_logging": "core.middleware.RequestLoggingMiddleware",
    "access_hours": "core.middleware.AccessHoursMiddleware",
    "post_rate_limit": "core.middleware.PostRateLimitMiddleware",
    "role_permission": "core.middleware.RolePermissionMiddleware",
}


@pytest.fixture
def enable(settings):
    def on(*names: str) -> None:
        base = [m for m in settings.MIDDLEWARE if not m.startswith("core.middleware.")]
        at = base.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        settings.MIDDLEWARE = base[:at] + [LAB[n] for n in names] + base[at:]

    return on


def test_request_logging(enable, api, guest, caplog):
    enable("request_logging")
    with caplog.at_level(logging.INFO, logger="labs.requests"):
        api(guest).get("/api/listings/")
        api(None).get("/healthz")
    lines = [r.getMessage() for r in caplog.records if r.name == "labs.requests"]
    assert f" - User: {guest.email} - Path: /api/listings/" in lines[0]
    assert lines[1].endswith(" - User: AnonymousUser - Path: /healthz")
    datetime.fromisoformat(lines[0].split(" - ")[0])  # starts with the time


def _window(start_offset_h: int, length_h: int) -> str:
    now = timezone.localtime()
    start = (now + timedelta(hours=start_offset_h)).strftime("%H:00")
    end = (now + timedelta(hours=start_offset_h + length_h)).strftime("%H:00")
    return f"{start}-{end}"


def test_access_hours(enable, settings, api, guest):
    enable("access_hours")
    settings.LAB_ACCESS_HOURS = _window(2, 3)  # a window that excludes now
    assert api(guest).get("/api/listings/").status_code == 403
    assert api(None).get("/healthz").status_code == 200  # probes always pass
    settings.LAB_ACCESS_HOURS = _window(-1, 3)  # a window around now
    assert api(guest).get("/api/listings/").status_code == 200


def test_post_rate_limit_per_ip(enable, settings, api, guest, listing):
    enable("post_rate_limit")
    settings.LAB_POST_RATE_LIMIT = 5
    client = api(guest)
    url = f"/api/listings/{listing.pk}/reviews/"
    codes = [client.post(url, {"rating": 5}, format="json", REMOTE_ADDR="10.0.0.1").status_code
             for _ in range(6)]
    assert 429 not in codes[:5] and codes[5] == 429
    assert client.get("/api/listings/", REMOTE_ADDR="10.0.0.1").status_code == 200  # GET free
    other = client.post(url, {"rating": 5}, format="json", REMOTE_ADDR="10.0.0.2")
    assert other.status_code != 429


def test_role_permission(enable, api, guest, make_user):
    enable("role_permission")
    assert api(None).get("/api/admin/stats/").status_code == 403
    assert api(guest).get("/api/admin/stats/").status_code == 403
    assert api(make_user("admin")).get("/api/admin/stats/").status_code == 200
    assert api(make_user("moderator")).get("/api/admin/stats/").status_code == 200
    assert api(guest).get("/api/listings/").status_code == 200  # other paths untouched

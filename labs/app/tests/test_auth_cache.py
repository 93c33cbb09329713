"""core.auth: tokens verified and users loaded once per process, never at the cost of
letting a refused user in or one user's record out to another."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from core import auth

pytestmark = pytest.mark.django_db


def test_a_known_token_costs_no_user_query(api, make_user):
    client = api(make_user("guest"))
    first = client.get("/api/bookings/")
    again = client.get("/api/bookings/")
    assert first.status_code == again.status_code == 200
    assert int(again["X-DB-Query-Count"]) == int(first["X-DB-Query-Count"]) - 1


def test_a_deactivated_or_deleted_user_is_refused_at_once(api, make_user):
    guest = make_user("guest")
    client = api(guest)
    assert client.get("/api/bookings/").status_code == 200  # now kept by this process
    guest.is_active = False
    guest.save()
    assert client.get("/api/bookings/").status_code == 401
    guest.is_active = True
    guest.save()
    assert client.get("/api/bookings/").status_code == 200
    guest.delete()
    assert client.get("/api/bookings/").status_code == 401


def test_a_new_role_applies_to_the_next_request(api, make_user):
    user = make_user("guest")
    client = api(user)
    listing = {"title": "Loft", "location": "Adama", "price_per_night": "10.00"}
    assert client.post("/api/listings/", listing, format="json").status_code == 403
    user.role = "host"
    user.save()
    assert client.post("/api/listings/", listing, format="json").status_code == 201


def test_each_request_gets_its_own_copy_of_the_user(rf, make_user):
    guest = make_user("guest")
    token = AccessToken.for_user(guest)
    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    first, _ = auth.JWTAuthentication().authenticate(request)
    first.first_name = "changed by one request, never saved"
    second, _ = auth.JWTAuthentication().authenticate(rf.get(
        "/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert second.pk == guest.pk and second.first_name == guest.first_name
    assert second is not first


def test_an_expired_token_is_refused_even_after_it_was_verified(api, make_user):
    token = AccessToken.for_user(make_user("guest"))
    token.set_exp(lifetime=timedelta(seconds=2))
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/bookings/").status_code == 200
    time.sleep(max(0.0, token["exp"] - time.time()) + 0.1)
    refused = client.get("/api/bookings/")
    assert refused.status_code == 401 and "expired" in refused.content.decode()


def test_a_forged_token_is_refused_however_often_the_real_one_was_seen(api, make_user):
    guest, other = make_user("guest"), make_user("guest")
    real = str(AccessToken.for_user(guest))
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {real}")
    assert client.get("/api/bookings/").status_code == 200
    header, payload, signature = real.split(".")
    forged = AccessToken.for_user(other)  # a valid payload for another user...
    _, other_payload, _ = str(forged).split(".")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{other_payload}.{signature}")
    assert client.get("/api/bookings/").status_code == 401  # ...under the wrong signature


def test_cache_off_loads_the_user_every_time(api, make_user, settings):
    settings.AUTH_USER_CACHE_SECONDS = 0
    client = api(make_user("guest"))
    first = client.get("/api/bookings/")
    assert client.get("/api/bookings/")["X-DB-Query-Count"] == first["X-DB-Query-Count"]

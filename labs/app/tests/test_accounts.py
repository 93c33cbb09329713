import pytest

pytestmark = pytest.mark.django_db


def test_signup_login_refresh_and_me(api):
    client = api(None)
    created = client.post("/api/auth/signup/", {"email": "new@example.com",
                                                "password": "a-long-pass-123", "role": "host"},
                          format="json")
    assert created.status_code == 201 and created.json()["role"] == "host"
    tokens = client.post("/api/auth/token/", {"email": "new@example.com",
                                              "password": "a-long-pass-123"}, format="json")
    assert tokens.status_code == 200
    refreshed = client.post("/api/auth/token/refresh/", {"refresh": tokens.json()["refresh"]},
                            format="json")
    assert refreshed.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert client.get("/api/auth/me/").json()["email"] == "new@example.com"


def test_signup_refuses_privileged_roles_and_duplicate_email(api, guest):
    client = api(None)
    assert client.post("/api/auth/signup/", {"email": "x@example.com",
                                             "password": "a-long-pass-123", "role": "admin"},
                       format="json").status_code == 400
    assert client.post("/api/auth/signup/", {"email": guest.email,
                                             "password": "a-long-pass-123"},
                       format="json").status_code == 400


def test_admin_stats_only_for_admins_and_moderators(api, make_user, guest):
    assert api(guest).get("/api/admin/stats/").status_code == 403
    assert api(make_user("moderator")).get("/api/admin/stats/").status_code == 200

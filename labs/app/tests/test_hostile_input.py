"""Issue 11, item 1: malformed or hostile input gets a 4xx with a JSON body, never a 500."""

import hashlib
import hmac
import json
import uuid
from datetime import date, timedelta

import pytest
from django.test import Client

from chats.services import conversation_create

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB: far past the interpreter's recursion limit
JUST_TOO_DEEP = "[" * 40 + "]" * 40  # parses, but nests deeper than core.parsers.MAX_DEPTH


def bearer(user) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    return {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}


def client() -> Client:
    return Client(raise_request_exception=False)  # a crash is a 500 response here, as live


def assert_json_4xx(response, *codes: int) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if codes:
        assert response.status_code in codes, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content)


@pytest.fixture
def pair(make_user):
    alice, bob = make_user("guest"), make_user("guest")
    return alice, bob, conversation_create(creator=alice, participants=[bob])


NOT_UUIDS = ["not-a-uuid", "1", "%20", "00000000-0000-0000-0000-00000000000g",
             "' OR 1=1 --", "ab" * 40]


@pytest.mark.parametrize("bad", NOT_UUIDS)
def test_nested_routes_answer_404_to_an_id_that_is_no_uuid(pair, bad):
    alice, _, conversation = pair
    c, auth = client(), bearer(alice)
    for method, path in [
        ("get", f"/api/conversations/{bad}/messages/"),
        ("post", f"/api/conversations/{bad}/messages/"),
        ("post", f"/api/conversations/{bad}/messages/mark-read/"),
        ("get", f"/api/conversations/{bad}/messages/{uuid.uuid4()}/"),
        ("get", f"/api/conversations/{conversation.pk}/messages/{bad}/"),
        ("get", f"/api/conversations/{conversation.pk}/messages/{bad}/thread/"),
        ("get", f"/api/conversations/{bad}/"),
        ("get", f"/api/listings/{bad}/reviews/"),
        ("post", f"/api/bookings/{bad}/cancel/"),
    ]:
        if method == "get":
            response = c.get(path, **auth)
        else:
            response = c.post(path, {"body": "hi"}, content_type="application/json", **auth)
        assert_json_4xx(response, 404)


def test_nested_routes_answer_404_to_an_unknown_conversation(pair):
    alice, _, _ = pair
    response = client().post(f"/api/conversations/{uuid.uuid4()}/messages/mark-read/",
                             **bearer(alice))
    assert_json_4xx(response, 404)


JSON_ENDPOINTS = ["/api/auth/signup/", "/api/auth/token/", "/api/auth/token/refresh/",
                  "/graphql", "/api/conversations/", "/api/listings/", "/api/bookings/",
                  "/api/payments/initiate/"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [DEEP, JUST_TOO_DEEP, '{"a": ' * 50 + "1" + "}" * 50],
                         ids=["100k-deep", "40-deep", "50-deep-objects"])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(path, body, make_user):
    # A user who may post there (anonymous callers are refused before the body is parsed).
    user = make_user("guest" if path in ("/api/bookings/", "/api/payments/initiate/")
                     else "host")
    for headers in ({}, bearer(user)):
        response = client().post(path, body, content_type="application/json", **headers)
        assert_json_4xx(response)
        if headers or path.startswith(("/api/auth/", "/graphql")):
            assert response.status_code == 400


def test_deep_graphql_variables_in_the_query_string_are_a_400():
    response = client().get("/graphql", {"query": "{ hello }", "variables": DEEP})
    assert_json_4xx(response, 400)


def test_malformed_json_and_wrong_types_are_400s(make_user):
    host = make_user("host")
    c = client()
    for body in ["{", "[1, 2", '"just a string"', "null", b"\xff\xfe", "1e999999", "NaN"]:
        response = c.post("/api/auth/signup/", body, content_type="application/json")
        assert_json_4xx(response, 400)
    response = c.post("/api/listings/", json.dumps([1, 2]), content_type="application/json",
                      **bearer(host))
    assert_json_4xx(response, 400)


def test_values_the_database_cannot_hold_are_400s(make_user):
    c = client()
    long_email = "a" * 300 + "@example.com"
    response = c.post("/api/auth/signup/", {"email": long_email, "password": "Lab-Pa55word!"},
                      content_type="application/json")
    assert_json_4xx(response, 400)
    host, guest = make_user("host"), make_user("guest")
    listing = c.post("/api/listings/", {"title": "Palace", "location": "Gondar",
                                        "price_per_night": "99999999.99"},
                     content_type="application/json", **bearer(host)).json()
    start = date.today() + timedelta(days=5)
    response = c.post("/api/bookings/", {
        "listing": listing["listing_id"], "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=3000)).isoformat()},
        content_type="application/json", **bearer(guest))
    assert_json_4xx(response, 400)


def test_bad_query_parameters_are_4xx(pair):
    alice, _, conversation = pair
    c, auth = client(), bearer(alice)
    base = f"/api/conversations/{conversation.pk}/messages/"
    for query in ({"page": "abc"}, {"page": "0"}, {"page": "99999"}, {"sent_after": "nope"},
                  {"participant": "not-a-uuid"}):
        assert_json_4xx(c.get(base, query, **auth))
    for query in ({"min_price": "abc"}, {"host": "x"}, {"ordering": "password"},
                  {"max_price": "1e999"}, {"location": "\x00"}, {"page": "-1"}):
        response = c.get("/api/listings/", query)
        assert response.status_code < 500 and response["Content-Type"] == "application/json"


def test_unknown_paths_and_bad_hosts_answer_json():
    assert assert_json_4xx(client().get("/api/nothing-here/"), 404) == {"detail": "Not found."}
    response = client().get("/api/listings/", HTTP_HOST="evil.example")
    assert_json_4xx(response, 400)


def test_invalid_tokens_are_401s_even_on_public_endpoints():
    response = client().get("/api/listings/", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_json_4xx(response, 401)


def test_a_signed_webhook_that_is_not_an_object_is_a_400(settings):
    settings.CHAPA_WEBHOOK_SECRET = "whsec-test"
    for body in (b"[1, 2]", b'{"data": [1]}', b'{"tx_ref": {"$ne": 1}}', DEEP.encode()):
        signature = hmac.new(b"whsec-test", body, hashlib.sha256).hexdigest()
        response = client().post("/api/payments/webhook/", body,
                                 content_type="application/json",
                                 HTTP_CHAPA_SIGNATURE=signature)
        assert response.status_code < 500 and response["Content-Type"] == "application/json"

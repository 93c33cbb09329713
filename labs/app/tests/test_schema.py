"""Issue 11, item 4: the OpenAPI document tells the truth.

A small schema-driven fuzzer: every operation of the generated schema is called by
anonymous, badly signed and signed-in users, with real, unknown and malformed path ids,
hostile query values and hostile bodies. Every answer must be a status the schema documents
for that operation (never a 5xx), in JSON.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = ["x" * 3000, 10**30, -1, None, [[[]]], {"a": {"b": {}}}, "", "\x00",
                  "1e999", "9999-99-99"]
HOSTILE_QUERY = ["zz", "-1", "0", "9" * 40, "\x00", "2020-13-45T99:00", "not-a-uuid"]
DEEP = "[" * 50_000 + "]" * 50_000


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    found = [(path, method.upper(), op) for path, ops in schema["paths"].items()
             for method, op in ops.items() if method != "parameters"]
    return sorted(found, key=lambda o: o[1] == "DELETE")  # deletions last


def test_every_operation_documents_its_errors(schema):
    for path, method, op in operations(schema):
        codes = set(op["responses"])
        assert "400" in codes and codes & {"401", "403", "404"}, (method, path, sorted(codes))
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in codes, (method, path)
        if "requestBody" in op:
            assert {"413", "415"} <= codes, (method, path)


def test_public_reads_are_documented_as_open_to_anonymous_callers(schema):
    for path in ("/api/listings/", "/api/listings/{listing_id}/",
                 "/api/listings/{listing_id}/reviews/"):
        assert {} in schema["paths"][path]["get"]["security"], path
    assert {} not in schema["paths"]["/api/listings/"]["post"]["security"]
    assert {} not in schema["paths"]["/api/conversations/"]["get"]["security"]


def test_bearer_tokens_are_documented(schema):
    # core.auth.JWTAuthentication (simplejwt's, subclassed) keeps its `jwtAuth` scheme.
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    assert {"jwtAuth": []} in schema["paths"]["/api/conversations/"]["get"]["security"]


def test_status_codes_of_creating_operations_are_the_real_ones(schema):
    reviews = schema["paths"]["/api/listings/{listing_id}/reviews/"]
    assert set(reviews["post"]["responses"]) & {"200", "201"} == {"201"}
    assert set(reviews["get"]["responses"]) & {"200", "201"} == {"200"}
    mark_read = schema["paths"]["/api/conversations/{conversation_pk}/messages/mark-read/"]
    ok = mark_read["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["components"]["schemas"][ok["$ref"].split("/")[-1]]["properties"] == {
        "marked_read": {"type": "integer"}}


@pytest.fixture
def world(make_user):
    """Alice (guest) booked Bob's listing and talks to him; Eve is an outsider."""
    from chats.services import conversation_create, message_create
    from listings.models import Booking, Listing, Review

    alice, bob, eve = make_user("guest"), make_user("host"), make_user("guest")
    listing = Listing.objects.create(host=bob, title="Flat", location="Adama",
                                     price_per_night=Decimal("100.00"))
    Review.objects.create(listing=listing, author=alice, rating=5)
    start = date.today() + timedelta(days=30)
    booking = Booking.objects.create(listing=listing, guest=alice, start_date=start,
                                     end_date=start + timedelta(days=2),
                                     total_price=Decimal("200.00"))
    conversation = conversation_create(creator=alice, participants=[bob])
    message = message_create(conversation=conversation, sender=alice, body="Selam")
    ids = {"conversation_pk": conversation.pk, "id": conversation.pk, "message_id": message.pk,
           "listing_id": listing.pk, "booking_id": booking.pk, "tx_ref": "tx-unknown"}
    return {"users": [alice, bob, eve], "ids": ids}


def callers(users) -> list[dict[str, str]]:
    from rest_framework_simplejwt.tokens import RefreshToken

    signed = [{"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(u).access_token}"}
              for u in users]
    return [{}, {"HTTP_AUTHORIZATION": "Bearer not.a.token"}, *signed]


def concrete(path: str, ids: dict, how: str) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        return {"real": str(ids.get(name, "x")), "unknown": str(uuid.uuid4()),
                "malformed": "not-a-uuid"}[how]

    return re.sub(r"\{(\w+)\}", value, path)


def body_fields(schema: dict, op: dict) -> list[str]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref")
    if not ref:
        return ["x"]
    return list(schema["components"]["schemas"][ref.split("/")[-1]].get("properties", {}))


def bodies(schema: dict, op: dict) -> list[tuple[str, str]]:
    fields = body_fields(schema, op)
    hostile = [("application/json", json.dumps({f: v for f in fields}))
               for v in HOSTILE_VALUES]
    return [("application/json", "{}"), ("application/json", "{"),
            ("application/json", DEEP), ("application/json", "[1]"),
            ("text/plain", "hello"), *hostile]


def test_no_answer_is_undocumented_or_a_server_error(schema, world):
    client = Client(raise_request_exception=False)
    who = callers(world["users"])
    undocumented: list[str] = []
    for path, method, op in operations(schema):
        documented = set(op["responses"])
        queries = [{p["name"]: v} for p in op.get("parameters", []) if p["in"] == "query"
                   for v in HOSTILE_QUERY] or [{}]
        sends = []
        for how, headers in itertools.product(("real", "unknown", "malformed"), who):
            sends.append((concrete(path, world["ids"], how), headers, None, {}))
        real = concrete(path, world["ids"], "real")
        for headers in who[2:]:
            if method in ("POST", "PUT", "PATCH"):
                sends += [(real, headers, body, {}) for body in bodies(schema, op)]
            if method == "GET":
                sends += [(real, headers, None, query) for query in queries]
        for url, headers, body, query in sends:
            if body is None:
                response = client.generic(method, url, **headers, QUERY_STRING="&".join(
                    f"{k}={v}" for k, v in query.items()))
            else:
                response = client.generic(method, url, body[1], content_type=body[0],
                                          **headers)
            status = str(response.status_code)
            what = f"{method} {path} -> {status} ({url} {str(body)[:40]} {query})"
            if status not in documented or response.status_code >= 500:
                undocumented.append(what)
            elif status != "204":
                assert response["Content-Type"].startswith("application/json"), what
    assert undocumented == [], "\n".join(sorted(set(undocumented))[:40])

"""HTTP helpers for checks that drive the learner's API as a client would.

Each check signs up its own throwaway users (unique e-mails), so checks never depend on
seeded data or on each other, and can run again and again on the same environment. Requests
carry an `X-Forwarded-For` address: a fresh one per request unless the client is pinned to
one, so the API's per-IP POST rate limit (lesson 2) only counts what a check means it to.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from labs.checks.core import CheckContext, CheckFailed

TIMEOUT_S = 15
PASSWORD = "lab-check-Pa55word!"


def loopback_route(url: str) -> tuple[str, dict[str, str]]:
    """`url` to send and the Host header to add, for a name under `.localhost`.

    RFC 6761 reserves `*.localhost` for loopback and curl and browsers resolve it so, but glibc
    without nss-myhostname does not: a learner's ingress host (`<learner>.labs.localhost`)
    would fail to resolve here. Such a URL is sent to 127.0.0.1 with its name as Host, which
    is what the ingress controller routes by. Other URLs are unchanged.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host.endswith(".localhost"):
        return url, {}
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"127.0.0.1{port}")), {"Host": f"{host}{port}"}


def client_ip() -> str:
    # 198.18.0.0/15 is reserved for benchmarking: never a real client of the learner's API.
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    def expect(self, *codes: int, doing: str) -> Any:
        if self.status not in codes:
            shown = str(self.body)[:200]
            raise CheckFailed(f"{doing}: HTTP {self.status} (wanted "
                              f"{' or '.join(map(str, codes))}): {shown}")
        return self.body


class Api:
    """A client of the learner's API: base URL, optional bearer token, optional pinned IP."""

    def __init__(self, base_url: str, token: str | None = None, ip: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ip = ip  # None: a new client address for every request
        self.session = requests.Session()

    def as_user(self, token: str) -> Api:
        return Api(self.base_url, token, self.ip)

    def request(self, method: str, path: str, json: Any = None,
                headers: dict[str, str] | None = None, data: bytes | None = None) -> Reply:
        sent = {"X-Forwarded-For": self.ip or client_ip(), "Accept": "application/json",
                **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        url = f"{self.base_url}{path}"
        target, host = loopback_route(url)
        try:
            resp = self.session.request(method, target, json=json, data=data,
                                        headers={**host, **sent},
                                        timeout=TIMEOUT_S, allow_redirects=False)
        except requests.RequestException as exc:
            raise CheckFailed(f"{method} {url}: no answer ({type(exc).__name__}); is the API "
                              "reachable? (kubectl port-forward svc/api 8000:80)") from None
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        return Reply(resp.status_code, body, dict(resp.headers))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, json=json, **kw)


@dataclass(frozen=True)
class User:
    email: str
    user_id: str
    token: str
    role: str


def api(ctx: CheckContext) -> Api:
    return Api(ctx.need_base_url())


def sign_up(client: Api, role: str = "guest", label: str = "check") -> User:
    """A fresh user with a JWT access token (POST /api/auth/signup/ then /api/auth/token/)."""
    email = f"{label}-{uuid.uuid4().hex[:10]}@labcheck.prodev.dev"
    client.post("/api/auth/signup/", {"email": email, "password": PASSWORD, "role": role,
                                      "first_name": label.title(), "last_name": "Check"}
                ).expect(201, doing=f"sign up {email}")
    tokens = client.post("/api/auth/token/", {"email": email, "password": PASSWORD}
                         ).expect(200, doing="get a JWT (POST /api/auth/token/)")
    if not isinstance(tokens, dict) or "access" not in tokens:
        raise CheckFailed(f"POST /api/auth/token/ answered without an access token: {tokens}")
    me = client.as_user(tokens["access"]).get("/api/auth/me/").expect(
        200, doing="read /api/auth/me/ with the token")
    return User(email=email, user_id=str(me["user_id"]), token=tokens["access"], role=role)


def results(body: Any) -> list[Any]:
    """The items of a list response, paginated ({"results": [...]}) or not."""
    if isinstance(body, dict) and "results" in body:
        return list(body["results"])
    if isinstance(body, list):
        return body
    raise CheckFailed(f"expected a list, got: {str(body)[:200]}")


def require_max_age(reply: Reply, seconds: int) -> str:
    """The Cache-Control header, if its max-age is at least `seconds`; else CheckFailed."""
    control = reply.headers.get("Cache-Control", "")
    ages = [int(part.split("=", 1)[1]) for part in control.replace(" ", "").split(",")
            if part.startswith("max-age=")]
    if not ages or ages[0] < seconds:
        raise CheckFailed(f"Cache-Control is {control!r}: no max-age of {seconds} s or more")
    return control


def query_count(reply: Reply) -> int:
    value = reply.headers.get("X-DB-Query-Count")
    if value is None:
        raise CheckFailed("the response has no X-DB-Query-Count header (the lab's app sets it; "
                          "is core.querycount.QueryCountMiddleware still in MIDDLEWARE?)")
    return int(value)


def start_conversation(client: Api, creator: User, *others: User) -> str:
    body = client.as_user(creator.token).post(
        "/api/conversations/", {"participant_ids": [u.user_id for u in others]}
    ).expect(201, doing="start a conversation (POST /api/conversations/)")
    return str(body["conversation_id"])


def two_in_a_conversation(client: Api) -> tuple[User, User, str]:
    """Alice and Bob, new users, and the id of the conversation Alice started with Bob."""
    alice, bob = sign_up(client, label="alice"), sign_up(client, label="bob")
    return alice, bob, start_conversation(client, alice, bob)


def send_message(client: Api, sender: User, conversation_id: str, body: str) -> dict[str, Any]:
    return client.as_user(sender.token).post(
        f"/api/conversations/{conversation_id}/messages/", {"body": body}
    ).expect(201, doing="send a message (POST /api/conversations/{id}/messages/)")


def host_listing(client: Api, host: User, price: str = "1500.00") -> dict[str, Any]:
    return client.as_user(host.token).post("/api/listings/", {
        "title": f"Lab check flat {uuid.uuid4().hex[:6]}", "description": "made by a check",
        "location": "Addis Ababa", "price_per_night": price,
    }).expect(201, doing="create a listing as a host (POST /api/listings/)")


def book(client: Api, guest: User, listing_id: str, nights: int = 2,
         days_ahead: int | None = None) -> dict[str, Any]:
    from datetime import date, timedelta

    # A random start far ahead keeps repeated runs from overlapping their own bookings.
    start = date.today() + timedelta(days=days_ahead or random.randrange(400, 4000))
    return client.as_user(guest.token).post("/api/bookings/", {
        "listing": listing_id, "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=nights)).isoformat(),
    }).expect(201, doing="book the listing as a guest (POST /api/bookings/)")


def signed_in(base_url: str, role: str = "guest", label: str = "check") -> tuple[Api, User]:
    """A fresh user and a client of their own (own address, so their POSTs count apart)."""
    client = Api(base_url)
    user = sign_up(client, role=role, label=label)
    return client.as_user(user.token), user

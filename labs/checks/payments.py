"""Lesson 6 checks: the Chapa payment flow, driven as a guest, a payer at checkout and Chapa.

Each check makes its own host, guest, listing and booking through the learner's API (`--url`)
and pays at the lab's Chapa sandbox (`--chapa-url`) as a payer would: the hosted checkout page's
form. The app answers verify, callback and webhook with the payment plus `changed` (true only
for the one request that settled it), which is how settle-once is seen from outside.

In the lab the sandbox reaches the API's webhook (same namespace) and would settle every paid
checkout itself before a check could look; the checks' payments ask it to hold its callback
and webhook (the checkout form's sandbox-only `notify=0`), so each check sees the endpoint it
is about settle the payment, not the sandbox's notification.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from labs.chapa_sandbox.server import sign
from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.http import TIMEOUT_S, Api, Reply, book, host_listing, results, signed_in

LESSON = 6
CHECKOUT_PATH = re.compile(r"^/checkout/payment/[A-Za-z0-9]+/?$")
SANDBOX_HINT = "is the Chapa sandbox reachable? (kubectl port-forward svc/chapa-sandbox 8090:80)"
BURST = 3  # concurrent requests of each kind (verify, callback, webhook) in settle-once


class Booked:
    """A fresh host's listing booked by a fresh guest; `guest` is the guest's own client."""

    def __init__(self, ctx: CheckContext) -> None:
        base = ctx.need_base_url()
        host_client, host = signed_in(base, role="host", label="host")
        self.listing = host_listing(host_client, host)
        self.guest, self.guest_user = signed_in(base, label="payer")
        self.booking = book(self.guest, self.guest_user, str(self.listing["listing_id"]))
        self.booking_id = str(self.booking["booking_id"])


def initiate(guest: Api, booking_id: str) -> dict[str, Any]:
    payment = guest.post("/api/payments/initiate/", {"booking": booking_id}).expect(
        201, doing="initiate a payment as the booking's guest (POST /api/payments/initiate/)")
    for key in ("tx_ref", "checkout_url", "status"):
        if not payment.get(key):
            raise CheckFailed(f"POST /api/payments/initiate/ answered without {key!r}: "
                              f"{str(payment)[:200]}")
    return payment


def chapa_url(ctx: CheckContext) -> str:
    return str(ctx.need("chapa_url", "--chapa-url")).rstrip("/")


def checkout_url(ctx: CheckContext, payment: dict[str, Any]) -> str:
    """The payment's hosted checkout, reached through --chapa-url.

    The app is given the sandbox's in-cluster address; a payer (this check) reaches the same
    page through the port-forward, so only the path is kept.
    """
    chapa = chapa_url(ctx)
    path = urllib.parse.urlsplit(payment["checkout_url"]).path
    if not CHECKOUT_PATH.match(path):
        raise CheckFailed(f"checkout_url {payment['checkout_url']!r} is not a Chapa checkout "
                          "(…/checkout/payment/<token>): return data.checkout_url of Chapa's "
                          "initialize answer")
    return f"{chapa}{path}"


def _sandbox(method: str, url: str, **kw: Any) -> requests.Response:
    try:
        return requests.request(method, url, timeout=30, allow_redirects=False, **kw)
    except requests.RequestException as exc:
        raise CheckFailed(f"{method} {url}: no answer ({type(exc).__name__}); "
                          f"{SANDBOX_HINT}") from None


def pay(ctx: CheckContext, payment: dict[str, Any], outcome: str = "success",
        notify: bool = False) -> None:
    """Press the checkout page's button, as the payer would; the sandbox holds its callback
    and webhook unless `notify`."""
    url = checkout_url(ctx, payment)
    resp = _sandbox("POST", url, data={"outcome": outcome, "notify": "1" if notify else "0"})
    if resp.status_code not in (200, 302, 303):
        raise CheckFailed(f"paying at the checkout ({url}) answered HTTP {resp.status_code}")


def stored(guest: Api, tx_ref: str) -> dict[str, Any]:
    """The payment as GET /api/payments/ lists it (a read that never settles)."""
    listed = results(guest.get("/api/payments/").expect(
        200, doing="list the guest's payments (GET /api/payments/)"))
    for item in listed:
        if item.get("tx_ref") == tx_ref:
            return item
    raise CheckFailed(f"GET /api/payments/ does not list the guest's payment {tx_ref}")


def verify(guest: Api, tx_ref: str) -> dict[str, Any]:
    return guest.get(f"/api/payments/verify/{tx_ref}/").expect(
        200, doing=f"verify the payment (GET /api/payments/verify/{tx_ref}/)")


def webhook_event(tx_ref: str, status: str = "success") -> bytes:
    """A charge event shaped like Chapa's (only tx_ref matters: the app must ask verify)."""
    return json.dumps({"event": f"charge.{status}", "tx_ref": tx_ref, "status": status,
                       "currency": "ETB", "mode": "test", "type": "API"}).encode()


def post_webhook(base_url: str, body: bytes, signature: str | None) -> Reply:
    headers = {"Content-Type": "application/json"}
    if signature is not None:  # Chapa sends both spellings
        headers |= {"Chapa-Signature": signature, "x-chapa-signature": signature}
    # Its own client (address): Chapa is not the guest, and its POSTs count apart.
    return Api(base_url).post("/api/payments/webhook/", data=body, headers=headers)


def callback(base_url: str, tx_ref: str) -> Reply:
    query = urllib.parse.urlencode({"trx_ref": tx_ref, "status": "success"})
    return Api(base_url).get(f"/api/payments/callback/?{query}")


@register(LESSON, "payments.initiate", "A guest starts a Chapa checkout for their own booking",
          "POST /api/payments/initiate/ {booking}: refuse (400/403) anyone but the booking's "
          "guest, create a pending Payment with a unique tx_ref, call Chapa's "
          "/v1/transaction/initialize and answer 201 with its data.checkout_url")
def initiate_check(ctx: CheckContext) -> str:
    chapa_url(ctx)
    booked = Booked(ctx)
    payment = initiate(booked.guest, booked.booking_id)
    if payment["status"] != "pending":
        raise CheckFailed(f"a new payment has status {payment['status']!r}, not 'pending'")
    if str(payment.get("amount")) != str(booked.booking["total_price"]):
        raise CheckFailed(f"the payment's amount {payment.get('amount')} is not the booking's "
                          f"total_price {booked.booking['total_price']}")
    page = _sandbox("GET", checkout_url(ctx, payment))
    if page.status_code != 200 or payment["tx_ref"] not in page.text:
        raise CheckFailed(f"the Chapa sandbox does not know checkout {payment['checkout_url']} "
                          f"(HTTP {page.status_code}): was it initialized with this tx_ref?")
    other, _ = signed_in(ctx.need_base_url(), label="stranger")
    reply = other.post("/api/payments/initiate/", {"booking": booked.booking_id})
    if reply.status == 201:
        raise CheckFailed("another guest initiated a payment for someone else's booking "
                          "(HTTP 201): only the booking's guest may pay it")
    if reply.status not in (400, 403, 404):
        raise CheckFailed(f"another guest paying someone else's booking got HTTP {reply.status}"
                          ", not a refusal (400/403/404)")
    return (f"201 with a sandbox checkout for {payment['amount']} {payment.get('currency')}; "
            f"another guest is refused ({reply.status})")


@register(LESSON, "payments.checkout-verify", "Verify records what Chapa says about a checkout",
          "GET /api/payments/verify/<tx_ref>/ must ask Chapa (GET /v1/transaction/verify/"
          "<tx_ref>) and record its data.status: success -> completed, failed -> failed, "
          "pending stays pending")
def checkout_verify(ctx: CheckContext) -> str:
    chapa_url(ctx)
    booked = Booked(ctx)
    payment = initiate(booked.guest, booked.booking_id)
    tx_ref = payment["tx_ref"]
    before = verify(booked.guest, tx_ref)
    if before.get("status") != "pending":
        raise CheckFailed(f"before anyone paid, verify shows status {before.get('status')!r}: "
                          "it must follow Chapa's answer (still pending)")
    pay(ctx, payment, "success")
    after = verify(booked.guest, tx_ref)
    if after.get("status") != "completed":
        raise CheckFailed(f"after paying at the checkout, verify shows status "
                          f"{after.get('status')!r}, not 'completed'")
    # A declined checkout: same guest, other dates, from another address (as if on their
    # phone) so these POSTs stay within the lab's per-address rate limit.
    phone = Api(ctx.need_base_url(), booked.guest.token)
    declined_booking = book(phone, booked.guest_user, str(booked.listing["listing_id"]))
    declined = initiate(phone, str(declined_booking["booking_id"]))
    pay(ctx, declined, "failed")
    seen = verify(phone, declined["tx_ref"]).get("status")
    if seen != "failed":
        raise CheckFailed(f"a checkout declined at Chapa shows status {seen!r} after verify, "
                          "not 'failed'")
    return "pending before paying, completed after; a declined checkout is recorded failed"


@register(LESSON, "payments.webhook", "The webhook accepts only Chapa's signature",
          "POST /api/payments/webhook/: answer 401 unless the Chapa-Signature (or "
          "x-chapa-signature) header is the hex HMAC-SHA256 of the raw body keyed by "
          "CHAPA_WEBHOOK_SECRET; settle a genuine event through verify")
def webhook(ctx: CheckContext) -> str:
    secret = str(ctx.need("chapa_webhook_secret", "--chapa-webhook-secret"))
    chapa_url(ctx)
    base = ctx.need_base_url()
    booked = Booked(ctx)
    payment = initiate(booked.guest, booked.booking_id)
    tx_ref = payment["tx_ref"]
    pay(ctx, payment, "success")
    was = stored(booked.guest, tx_ref)["status"]
    body = webhook_event(tx_ref)
    for label, signature in (("a forged signature", sign(body, "not-" + secret)),
                             ("no signature", None)):
        reply = post_webhook(base, body, signature)
        if reply.status != 401:
            raise CheckFailed(f"a webhook event with {label} got HTTP {reply.status}, not 401")
    if was == "pending" and stored(booked.guest, tx_ref)["status"] != "pending":
        raise CheckFailed("a rejected webhook event still changed the payment")
    genuine = post_webhook(base, body, sign(body, secret))
    genuine.expect(200, doing="post a correctly signed webhook event")
    status = stored(booked.guest, tx_ref)["status"]
    if status != "completed":
        raise CheckFailed(f"after a signed charge.success event for a paid checkout the payment "
                          f"is {status!r}, not 'completed' (settle it through Chapa's verify)")
    return "forged and unsigned events get 401; a signed event is accepted and settles"


def _burst(ctx: CheckContext, booked: Booked, tx_ref: str, secret: str
           ) -> list[tuple[str, Reply]]:
    """verify, callback and webhook, BURST of each at once, then one of each again."""
    base = ctx.need_base_url()
    body = webhook_event(tx_ref)
    signature = sign(body, secret)
    calls = {
        "verify": lambda: Api(base, booked.guest.token).get(f"/api/payments/verify/{tx_ref}/"),
        "callback": lambda: callback(base, tx_ref),
        "webhook": lambda: post_webhook(base, body, signature),
    }
    kinds = [kind for kind in calls for _ in range(BURST)]
    start = threading.Barrier(len(kinds))

    def fire(kind: str) -> tuple[str, Reply]:
        start.wait(timeout=TIMEOUT_S)
        return kind, calls[kind]()

    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        replies = list(pool.map(fire, kinds))
    return replies + [(kind, call()) for kind, call in calls.items()]


@register(LESSON, "payments.settle-once", "Repeated and concurrent settlement happens once",
          "in services.payment_settle lock the row (select_for_update inside "
          "transaction.atomic) and return changed=False unless the payment is still pending; "
          "refuse to initiate a payment for a booking that is already paid")
def settle_once(ctx: CheckContext) -> str:
    secret = str(ctx.need("chapa_webhook_secret", "--chapa-webhook-secret"))
    chapa_url(ctx)
    booked = Booked(ctx)
    payment = initiate(booked.guest, booked.booking_id)
    tx_ref = payment["tx_ref"]
    pay(ctx, payment, "success")
    # Chapa's own callback may already have settled it (when it can reach the app).
    expected = 0 if stored(booked.guest, tx_ref)["status"] == "completed" else 1
    replies = _burst(ctx, booked, tx_ref, secret)
    for kind, reply in replies:
        body = reply.expect(200, doing=f"settle through the {kind} endpoint")
        if not isinstance(body, dict) or "changed" not in body:
            raise CheckFailed(f"the {kind} endpoint answered without `changed`: "
                              f"{str(body)[:200]}")
    changed = [kind for kind, reply in replies if reply.body["changed"] is True]
    if len(changed) != expected:
        raise CheckFailed(f"{len(replies)} settle requests ({BURST} of each kind at once, then "
                          f"one of each again) answered changed=true {len(changed)} times "
                          f"({', '.join(changed) or 'none'}), not {expected}")
    mine = [p for p in results(booked.guest.get("/api/payments/").expect(
        200, doing="list the guest's payments")) if str(p.get("booking")) == booked.booking_id]
    completed = [p for p in mine if p.get("status") == "completed"]
    if len(completed) != 1:
        raise CheckFailed(f"the booking has {len(completed)} completed payments, not 1")
    again = booked.guest.post("/api/payments/initiate/", {"booking": booked.booking_id})
    if again.status == 201:
        raise CheckFailed("a second payment was initiated for a booking already paid (HTTP 201)")
    settled = "once" if expected else "never (Chapa's callback had settled it)"
    return (f"{len(replies)} verify/callback/webhook requests ({BURST} of each concurrently) "
            f"settled it {settled}; paying again is refused ({again.status})")

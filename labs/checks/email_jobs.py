"""Lesson 7 checks: a booking's confirmation e-mail, sent by the Celery worker, and retried.

Bookings are made through the learner's API (`--url`); what the worker sends is read back from
the lab's mail catcher, Mailpit (`--mail-url`, its HTTP API). To see a retry, the check turns on
Mailpit's chaos (`PUT /api/v1/chaos`): every RCPT TO is refused with 451 while it holds, so the
worker's first delivery fails; a task that retries delivers once chaos is off again.

Mailpit does not count chaos refusals anywhere a client can read, so the check cannot see the
refused attempt itself. It measures how fast the worker delivers a first booking's e-mail and
holds chaos for a few times that after the second booking, which the first attempt falls into
unless the worker is badly backlogged; then the only way for the e-mail to arrive is a retry.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from labs import mailcatcher
from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.http import book, host_listing, signed_in

LESSON = 7
SUBJECT = "Booking confirmed"
DELIVERY_TIMEOUT_S = 60.0  # booking -> e-mail in Mailpit
RETRY_TIMEOUT_S = 60.0  # chaos off -> retried e-mail in Mailpit
HOLD_MIN_S, HOLD_MAX_S = 2.0, 10.0  # how long chaos refuses deliveries after the booking
MAILPIT_HINT = "is Mailpit reachable? (kubectl port-forward svc/mailpit 8025:8025)"


def mail_url(ctx: CheckContext) -> str:
    return str(ctx.need("mail_url", "--mail-url")).rstrip("/")


def _mailpit(call: Any, *args: Any, **kw: Any) -> Any:
    try:
        return call(*args, **kw)
    except requests.RequestException as exc:
        raise CheckFailed(f"Mailpit API: {type(exc).__name__}: {exc}; {MAILPIT_HINT}") from None


def confirmations(url: str, address: str) -> list[dict[str, Any]]:
    """Booking confirmations caught for `address`, newest first."""
    return [m for m in _mailpit(mailcatcher.messages_to, url, address)
            if SUBJECT.lower() in str(m.get("Subject", "")).lower()]


def wait_for_confirmations(url: str, address: str, count: int, timeout: float
                           ) -> list[dict[str, Any]] | None:
    """At least `count` confirmations for `address` within `timeout` s, or None."""
    deadline = time.monotonic() + timeout
    while True:
        found = confirmations(url, address)
        if len(found) >= count:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.25)


class Stay:
    """A fresh host's listing and a fresh guest who can book it (each with their own client)."""

    def __init__(self, ctx: CheckContext) -> None:
        base = ctx.need_base_url()
        host_client, host = signed_in(base, role="host", label="host")
        self.listing_id = str(host_listing(host_client, host)["listing_id"])
        self.guest, self.user = signed_in(base, label="mailguest")

    def book(self) -> str:
        return str(book(self.guest, self.user, self.listing_id)["booking_id"])


def _no_mail(address: str, timeout: float) -> CheckFailed:
    return CheckFailed(f"no '{SUBJECT}' e-mail to {address} reached Mailpit within "
                       f"{timeout:g}s of the booking (POST /api/bookings/ answered 201)")


@register(LESSON, "email.booking-confirmed", "A booking e-mails the guest through the worker",
          "in listings.services.booking_create queue send_booking_confirmation with .delay() "
          "inside transaction.on_commit; check `kubectl logs deploy/worker` for the task and "
          "that the worker's EMAIL_HOST is mailpit")
def booking_confirmed(ctx: CheckContext) -> str:
    url = mail_url(ctx)
    stay = Stay(ctx)
    booked_at = time.monotonic()
    booking_id = stay.book()
    found = wait_for_confirmations(url, stay.user.email, 1, DELIVERY_TIMEOUT_S)
    if found is None:
        raise _no_mail(stay.user.email, DELIVERY_TIMEOUT_S)
    latency = time.monotonic() - booked_at
    if len(found) > 1:
        raise CheckFailed(f"one booking sent {len(found)} '{SUBJECT}' e-mails to the guest")
    text = _mailpit(mailcatcher.message, url, found[0]["ID"]).get("Text") or ""
    mentions = " (it names the booking)" if booking_id in text else ""
    return f"'{found[0]['Subject']}' reached {stay.user.email} {latency:.1f}s after booking" \
           f"{mentions}"


@register(LESSON, "email.retried", "A refused delivery is retried until the e-mail arrives",
          "declare the task with autoretry_for=(smtplib.SMTPException, ConnectionError, "
          "TimeoutError), retry_backoff=2 and max_retries=5 (a bound task), so a 4xx from the "
          "mail server or a connection error is retried with backoff instead of losing the "
          "e-mail")
def retried(ctx: CheckContext) -> str:
    url = mail_url(ctx)
    chaos = _mailpit(requests.get, f"{url}/api/v1/chaos", timeout=10)
    if chaos.status_code != 200:
        raise CheckFailed(f"Mailpit's chaos is not enabled (GET /api/v1/chaos: HTTP "
                          f"{chaos.status_code}): run it with --enable-chaos "
                          "(MP_ENABLE_CHAOS=true), as `lab up` does")
    stay = Stay(ctx)
    address = stay.user.email
    # 1. How fast does the worker deliver here, without trouble?
    started = time.monotonic()
    stay.book()
    if wait_for_confirmations(url, address, 1, DELIVERY_TIMEOUT_S) is None:
        raise CheckFailed(f"{_no_mail(address, DELIVERY_TIMEOUT_S)}; fix "
                          "email.booking-confirmed first")
    latency = time.monotonic() - started
    hold = min(max(3 * latency + 1.0, HOLD_MIN_S), HOLD_MAX_S)
    # 2. Refuse every delivery while the second booking's first attempt is made.
    _mailpit(mailcatcher.set_chaos_fail, url, recipient=100, code=451)
    try:
        stay.book()
        time.sleep(hold)
        early = len(confirmations(url, address))
    finally:
        _mailpit(mailcatcher.clear_chaos, url)
    if early > 1:
        raise CheckFailed("the e-mail arrived while Mailpit refused every recipient: is the "
                          "worker sending somewhere else?")
    # 3. Only a retry can deliver it now.
    cleared = time.monotonic()
    if wait_for_confirmations(url, address, 2, RETRY_TIMEOUT_S) is None:
        raise CheckFailed(f"the booking e-mail's delivery was refused (451 from Mailpit, for "
                          f"{hold:.1f}s after booking) and no retry delivered it within "
                          f"{RETRY_TIMEOUT_S:g}s after deliveries were accepted again")
    return (f"deliveries refused for {hold:.1f}s after booking; a retry delivered the e-mail "
            f"{time.monotonic() - cleared:.1f}s after Mailpit accepted mail again")


"""Payments against the Chapa sandbox over HTTP, with the app served by live_server."""

import json
import threading
from decimal import Decimal

import pytest
import requests
from django.db import connection

from payments.models import Payment
from payments.services import payment_settle

sign = pytest.importorskip("labs.chapa_sandbox").sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_url(live_server, settings, chapa_sandbox):
    settings.APP_PUBLIC_URL = live_server.url
    chapa_sandbox.webhook_url = f"{live_server.url}/api/payments/webhook/"
    yield live_server.url
    chapa_sandbox.webhook_url = ""


def bearer(user):
    from rest_framework_simplejwt.tokens import RefreshToken

    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def initiate(app_url, booking):
    response = requests.post(f"{app_url}/api/payments/initiate/", json={
        "booking": str(booking.pk)}, headers=bearer(booking.guest), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_pay_end_to_end_through_hosted_checkout(app_url, booking, chapa_sandbox, queued_tasks):
    payment = initiate(app_url, booking)
    assert payment["status"] == "pending" and payment["amount"] == "3000.00"
    assert payment["checkout_url"].startswith(chapa_sandbox.url + "/checkout/payment/")

    page = requests.get(payment["checkout_url"], timeout=10)
    assert page.status_code == 200 and "3000.00 ETB" in page.text
    deliveries_before = len(chapa_sandbox.deliveries)
    paid = requests.post(payment["checkout_url"], data={"outcome": "success"}, timeout=30)
    assert paid.status_code == 200 and "Payment success" in paid.text

    # Chapa called our callback and our webhook; both answered 200.
    sent = chapa_sandbox.deliveries[deliveries_before:]
    assert [(d["kind"], d["status"]) for d in sent] == [("callback", 200), ("webhook", 200)]
    stored = Payment.objects.get(tx_ref=payment["tx_ref"])
    assert stored.status == Payment.Status.COMPLETED and stored.chapa_reference
    # Settled once: the payment email was queued exactly once.
    assert queued_tasks == [("payments.tasks.send_payment_confirmation", (str(stored.pk),))]

    verified = requests.get(f"{app_url}/api/payments/verify/{payment['tx_ref']}/",
                            headers=bearer(booking.guest), timeout=10).json()
    assert verified["status"] == "completed" and verified["changed"] is False
    assert len(queued_tasks) == 1


def test_verify_records_a_failed_payment(app_url, booking, chapa_sandbox, queued_tasks):
    payment = initiate(app_url, booking)
    chapa_sandbox.transactions[payment["tx_ref"]].callback_url = None  # only verify reports
    chapa_sandbox.webhook_url = ""
    chapa_sandbox.complete(payment["tx_ref"], "failed")
    verified = requests.get(f"{app_url}/api/payments/verify/{payment['tx_ref']}/",
                            headers=bearer(booking.guest), timeout=10).json()
    assert verified["status"] == "failed" and verified["changed"] is True
    assert queued_tasks == []


def test_only_the_guest_pays_and_only_parties_verify(app_url, booking, make_user):
    stranger = make_user("guest")
    refused = requests.post(f"{app_url}/api/payments/initiate/",
                            json={"booking": str(booking.pk)}, headers=bearer(stranger),
                            timeout=10)
    assert refused.status_code == 400
    payment = initiate(app_url, booking)
    other = requests.get(f"{app_url}/api/payments/verify/{payment['tx_ref']}/",
                         headers=bearer(stranger), timeout=10)
    assert other.status_code == 403


def test_forged_webhook_signature_is_rejected(app_url, booking, chapa_sandbox):
    payment = initiate(app_url, booking)
    chapa_sandbox.transactions[payment["tx_ref"]].status = "success"  # even if Chapa agrees
    body = json.dumps({"event": "charge.success", "tx_ref": payment["tx_ref"],
                       "status": "success"}).encode()
    forged = sign(body, "not-the-webhook-secret")
    for headers in ({"x-chapa-signature": forged}, {"Chapa-Signature": forged}, {}):
        response = requests.post(f"{app_url}/api/payments/webhook/", data=body, timeout=10,
                                 headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 401
    assert Payment.objects.get(tx_ref=payment["tx_ref"]).status == Payment.Status.PENDING

    genuine = sign(body, chapa_sandbox.webhook_secret)
    ok = requests.post(f"{app_url}/api/payments/webhook/", data=body, timeout=10,
                       headers={"Content-Type": "application/json", "x-chapa-signature": genuine})
    assert ok.status_code == 200 and ok.json()["changed"] is True
    replay = requests.post(f"{app_url}/api/payments/webhook/", data=body, timeout=10,
                           headers={"Content-Type": "application/json",
                                    "Chapa-Signature": genuine})
    assert replay.status_code == 200 and replay.json()["changed"] is False


def test_settles_exactly_once_under_concurrency(booking, chapa_sandbox, queued_tasks):
    payment = Payment.objects.create(booking=booking, amount=Decimal("3000.00"),
                                     tx_ref="concurrent-1")
    chapa_sandbox.initialize({"amount": "3000.00", "currency": "ETB", "tx_ref": "concurrent-1",
                              "email": booking.guest.email}, chapa_sandbox.url)
    chapa_sandbox.complete("concurrent-1", "success")
    results, barrier = [], threading.Barrier(4)

    def settle():
        barrier.wait()
        try:
            results.append(payment_settle(tx_ref="concurrent-1")[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert len(queued_tasks) == 1


def test_amount_mismatch_is_not_completed(booking, chapa_sandbox, queued_tasks):
    Payment.objects.create(booking=booking, amount=Decimal("3000.00"), tx_ref="short-1")
    chapa_sandbox.initialize({"amount": "30.00", "currency": "ETB", "tx_ref": "short-1"},
                             chapa_sandbox.url)
    chapa_sandbox.complete("short-1", "success")
    payment, changed = payment_settle(tx_ref="short-1")
    assert changed and payment.status == Payment.Status.FAILED
    assert queued_tasks == []

"""Writes for payments: initiate with Chapa, then settle exactly once."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from listings.models import Booking

from . import chapa
from .models import Payment

ETHIOPIAN_PHONE = re.compile(r"^0[79]\d{8}$")


class PaymentError(Exception):
    pass


def payment_initiate(*, booking: Booking, user: User, callback_url: str,
                     return_url: str | None = None) -> Payment:
    # BEGIN SOLUTION lesson 6
    if booking.guest_id != user.pk:
        raise PaymentError("Only the guest who booked can pay for the booking.")
    # STARTER
    # # TODO: only the guest who made the booking may pay for it
    # END SOLUTION
    if booking.status != Booking.Status.CONFIRMED:
        raise PaymentError("Only confirmed bookings can be paid.")
    # BEGIN SOLUTION lesson 6
    if Payment.objects.filter(booking=booking, status=Payment.Status.COMPLETED).exists():
        raise PaymentError("This booking is already paid.")
    # STARTER
    # # TODO: refuse a second payment for a booking that is already paid
    # END SOLUTION

    payment = Payment.objects.create(
        booking=booking, amount=booking.total_price, currency="ETB",
        tx_ref=f"booking-{uuid.uuid4().hex}",
    )
    phone = user.phone_number if ETHIOPIAN_PHONE.match(user.phone_number or "") else None
    try:
        payment.checkout_url = chapa.initialize(
            amount=str(payment.amount), currency=payment.currency, email=user.email,
            first_name=user.first_name or "Guest", last_name=user.last_name or "Guest",
            phone_number=phone, tx_ref=payment.tx_ref, callback_url=callback_url,
            return_url=return_url, title="Booking payment",
            description=f"Booking {booking.booking_id}"[:50],
        )
    except chapa.ChapaError as exc:
        payment.status = Payment.Status.FAILED
        payment.failure_reason = str(exc)[:300]
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
        raise PaymentError(f"Chapa refused the payment: {exc}") from exc
    payment.save(update_fields=["checkout_url", "updated_at"])
    return payment


def payment_settle(*, tx_ref: str) -> tuple[Payment, bool]:
    """Ask Chapa for the transaction's status and record it; returns (payment, changed).

    Safe to call any number of times, concurrently, from verify, callback and webhook: the
    row lock makes exactly one caller move a pending payment to completed or failed, and
    only that caller queues the confirmation email.
    """
    from .tasks import send_payment_confirmation

    Payment.objects.get(tx_ref=tx_ref)  # unknown references raise DoesNotExist early
    data = chapa.verify(tx_ref)
    with transaction.atomic():
        # BEGIN SOLUTION lesson 6
        payment = Payment.objects.select_for_update().get(tx_ref=tx_ref)
        if payment.status != Payment.Status.PENDING:
            return payment, False
        # STARTER
        # # TODO: settle once: lock the row (select_for_update) and leave a payment that is no
        # # longer pending as it is, answering changed=False
        # payment = Payment.objects.get(tx_ref=tx_ref)
        # END SOLUTION
        status = data.get("status")
        if status == "success":
            if (Decimal(str(data.get("amount"))) != payment.amount
                    or data.get("currency") != payment.currency):
                payment.status = Payment.Status.FAILED
                payment.failure_reason = "Amount or currency differs from the booking."
            else:
                payment.status = Payment.Status.COMPLETED
                payment.completed_at = timezone.now()
        elif status == "failed":
            payment.status = Payment.Status.FAILED
            payment.failure_reason = "Chapa reported the transaction failed."
        else:
            return payment, False  # still pending at Chapa
        payment.chapa_reference = data.get("reference") or ""
        payment.save()
        if payment.status == Payment.Status.COMPLETED:
            transaction.on_commit(lambda: send_payment_confirmation.delay(str(payment.pk)))
    return payment, True

"""A real Celery worker on the real RabbitMQ delivers mail to a real SMTP server."""

import smtplib
from datetime import date, timedelta
from decimal import Decimal

import pytest

from listings.services import booking_create
from listings.tasks import send_booking_confirmation
from payments.models import Payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_celery]


def test_booking_confirmation_email_is_delivered_by_the_worker(celery_worker, smtp_server,
                                                               guest, listing):
    booking = booking_create(listing=listing, guest=guest,
                             start_date=date.today() + timedelta(days=30),
                             end_date=date.today() + timedelta(days=32))
    # booking_create committed, so on_commit published the task to RabbitMQ.
    mails = smtp_server.wait_for(lambda m: str(booking.pk) in m.get_payload(), timeout=30)
    assert mails, celery_worker.log_path.read_text(errors="replace")[-2000:]
    mail = mails[0]
    assert mail["To"] == guest.email
    assert mail["Subject"] == f"Booking confirmed: {listing.title}"
    assert "3000.00 ETB" in mail.get_payload()


def test_smtp_failure_is_retried_with_backoff(celery_worker, smtp_server, guest, listing):
    start = date.today() + timedelta(days=60)
    from listings.models import Booking

    booking = Booking.objects.create(listing=listing, guest=guest, start_date=start,
                                     end_date=start + timedelta(days=1),
                                     total_price=Decimal("1500.00"))
    smtp_server.fail_next = 1  # the first delivery gets "451 try again later"
    refused_before = smtp_server.refused
    send_booking_confirmation.delay(str(booking.pk))
    mails = smtp_server.wait_for(lambda m: str(booking.pk) in m.get_payload(), timeout=40)
    assert mails, celery_worker.log_path.read_text(errors="replace")[-2000:]
    assert smtp_server.refused == refused_before + 1
    assert "Retry in" in celery_worker.log_path.read_text(errors="replace")


def test_payment_confirmation_email(celery_worker, smtp_server, booking):
    from payments.tasks import send_payment_confirmation

    payment = Payment.objects.create(booking=booking, amount=booking.total_price,
                                     tx_ref="mail-1", status=Payment.Status.COMPLETED)
    send_payment_confirmation.delay(str(payment.pk))
    mails = smtp_server.wait_for(lambda m: "mail-1" in m.get_payload(), timeout=30)
    assert mails and mails[0]["Subject"].startswith("Payment received")


def test_task_retries_declared_for_smtp_errors():
    assert smtplib.SMTPException in send_booking_confirmation.autoretry_for
    assert send_booking_confirmation.retry_backoff and send_booking_confirmation.max_retries == 5

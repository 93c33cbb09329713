"""Lesson 7: booking emails sent by a Celery worker."""

import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

# What a mail server that is down or refusing looks like from send_mail: worth retrying.
TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    # BEGIN SOLUTION lesson 7
    autoretry_for=TRANSIENT_MAIL_ERRORS,
    retry_backoff=2,  # 2 s, 4 s, 8 s ... (with jitter)
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    # STARTER
    # # TODO: retry TRANSIENT_MAIL_ERRORS with exponential backoff (autoretry_for, retry_backoff,
    # # max_retries) so a mail server that is briefly down does not lose the e-mail
    # END SOLUTION
)
def send_booking_confirmation(self, booking_id: str) -> str:
    from .models import Booking

    booking = Booking.objects.select_related("listing", "guest").get(pk=booking_id)
    send_mail(
        subject=f"Booking confirmed: {booking.listing.title}",
        message=(
            f"Hello {booking.guest.first_name or booking.guest.email},\n\n"
            f"Your stay at {booking.listing.title} ({booking.listing.location}) from "
            f"{booking.start_date} to {booking.end_date} is confirmed.\n"
            f"Total: {booking.total_price} ETB\nBooking reference: {booking.booking_id}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[booking.guest.email],
    )
    return booking_id

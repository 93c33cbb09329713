import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
             retry_backoff=2, retry_backoff_max=300, retry_jitter=True, max_retries=5)
def send_payment_confirmation(payment_id: str) -> str:
    from .models import Payment

    payment = Payment.objects.select_related("booking__guest", "booking__listing").get(
        pk=payment_id)
    guest = payment.booking.guest
    send_mail(
        subject=f"Payment received: {payment.booking.listing.title}",
        message=(
            f"Hello {guest.first_name or guest.email},\n\n"
            f"We received {payment.amount} {payment.currency} for your booking "
            f"{payment.booking.booking_id}.\nTransaction reference: {payment.tx_ref}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[guest.email],
    )
    return payment_id

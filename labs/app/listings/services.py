"""Writes for listings, bookings and reviews."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User

from .models import Booking, Listing, Review


class BookingError(Exception):
    """A booking request the rules refuse; the message is meant for the user."""


def listing_create(*, host: User, title: str, location: str, price_per_night: Decimal,
                   description: str = "") -> Listing:
    return Listing.objects.create(host=host, title=title, location=location,
                                  price_per_night=price_per_night, description=description)


def listing_update(*, listing: Listing, **fields) -> Listing:
    for name, value in fields.items():
        setattr(listing, name, value)
    # Only what was changed: the ratings are written by refresh_ratings, never from a copy
    # loaded before a review came in.
    listing.save(update_fields=[*fields, "updated_at"])
    return listing


def refresh_ratings(*listing_ids) -> None:
    """Recount the listings' stored rating average and count from their reviews (all
    listings when none is named). Called whenever a review is saved or deleted."""
    reviews = Review.objects.filter(listing=OuterRef("pk")).order_by().values("listing")
    listings = Listing.objects.filter(pk__in=listing_ids) if listing_ids else Listing.objects
    listings.update(
        rating_average=Subquery(reviews.annotate(value=Avg("rating")).values("value")),
        rating_count=Coalesce(Subquery(reviews.annotate(value=Count("pk")).values("value")), 0),
    )


def booking_total_price(*, listing: Listing, start_date: date, end_date: date) -> Decimal:
    # BEGIN SOLUTION lesson 1
    return listing.price_per_night * (end_date - start_date).days
    # STARTER
    # return listing.price_per_night  # TODO: the price of every night of the stay
    # END SOLUTION


def booking_create(*, listing: Listing, guest: User, start_date: date, end_date: date) -> Booking:
    """Confirm a stay if the dates are free; queue the confirmation email once committed."""
    # BEGIN SOLUTION lesson 7
    from .tasks import send_booking_confirmation

    # STARTER
    # END SOLUTION
    if end_date <= start_date:
        raise BookingError("end_date must be after start_date.")
    if start_date < date.today():
        raise BookingError("start_date is in the past.")
    if listing.host_id == guest.pk:
        raise BookingError("Hosts cannot book their own listing.")
    try:
        with transaction.atomic():
            # Lock the listing row so two requests for it cannot both pass the check.
            listing = Listing.objects.select_for_update().get(pk=listing.pk)
            overlapping = Booking.objects.filter(
                listing=listing, status=Booking.Status.CONFIRMED,
                start_date__lt=end_date, end_date__gt=start_date,
            ).exists()
            if overlapping:
                raise BookingError("These dates overlap a confirmed booking.")
            booking = Booking.objects.create(
                listing=listing, guest=guest, start_date=start_date, end_date=end_date,
                total_price=booking_total_price(listing=listing, start_date=start_date,
                                                end_date=end_date),
                status=Booking.Status.CONFIRMED,
            )
            # BEGIN SOLUTION lesson 7
            transaction.on_commit(lambda: send_booking_confirmation.delay(str(booking.pk)))
            # STARTER
            # # TODO: once the booking is committed, queue listings.tasks.send_booking_confirmation
            # # for it with .delay() (transaction.on_commit), so the worker e-mails the guest
            # END SOLUTION
    except IntegrityError as exc:  # the exclusion constraint, should the lock be bypassed
        raise BookingError("These dates overlap a confirmed booking.") from exc
    return booking


def booking_cancel(*, booking: Booking) -> Booking:
    booking.status = Booking.Status.CANCELED
    booking.save(update_fields=["status"])
    return booking


class ReviewError(Exception):
    pass


def review_create(*, listing: Listing, author: User, rating: int, comment: str = "") -> Review:
    if not 1 <= rating <= 5:
        raise ReviewError("Rating must be between 1 and 5.")
    try:
        with transaction.atomic():
            # The listing's row lock orders concurrent reviews of it: each recount (the
            # post_save signal) then sees the reviews committed before it.
            list(Listing.objects.select_for_update().filter(pk=listing.pk).values_list("pk"))
            return Review.objects.create(listing=listing, author=author, rating=rating,
                                         comment=comment)
    except IntegrityError as exc:
        raise ReviewError("You have already reviewed this listing.") from exc

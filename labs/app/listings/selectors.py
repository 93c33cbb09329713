"""Reads for listings, bookings and reviews."""

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet

from accounts.models import User

from .models import Booking, Listing, Review


def listing_list() -> QuerySet[Listing]:
    if settings.LAB_NAIVE_QUERIES:  # benchmark baseline: one query per listing for its host
        return (Listing.objects.annotate(average_rating=Avg("reviews__rating"),
                                         review_count=Count("reviews"))
                .order_by("-created_at"))
    return (
        Listing.objects.select_related("host")
        .annotate(average_rating=Avg("reviews__rating"), review_count=Count("reviews"))
        .order_by("-created_at")
    )


def booking_list(*, user: User) -> QuerySet[Booking]:
    """Guests see their bookings; hosts also the bookings of their listings; staff all."""
    qs = Booking.objects.all() if settings.LAB_NAIVE_QUERIES else (  # baseline: N+1
        Booking.objects.select_related("listing", "listing__host", "guest"))
    if not user.is_privileged:
        qs = qs.filter(Q(guest=user) | Q(listing__host=user))
    return qs.order_by("-created_at")


def review_list(*, listing: Listing) -> QuerySet[Review]:
    return Review.objects.filter(listing=listing).select_related("author")

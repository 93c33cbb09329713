"""Reads for listings, bookings and reviews."""

from functools import cache

from django.conf import settings
from django.db.models import Avg, Count, F, Q, QuerySet

from accounts.models import User
from core.pageplan import planned

from .models import Booking, Listing, Review

# Of a listing's host, what the public list shows (ListingSerializer): never the password
# hash or the e-mail address. The listing itself is loaded whole (updates save it).
HOST_COLUMNS = ("host__user_id", "host__first_name")


@planned  # its query depends on nothing else: compiled once (core/pageplan.py)
def listing_list() -> QuerySet[Listing]:
    """Listings, newest first, with their average rating and review count.

    The two figures are the listing's stored ones (services.refresh_ratings keeps them as
    reviews come and go): a page costs no aggregation. Correlated subqueries were evaluated
    for every row the OFFSET skips too (page 10: 200 rows, twice), and an aggregate over a
    JOIN for every listing. The host is joined with only the columns the public list shows.
    """
    if settings.LAB_NAIVE_QUERIES:
        # Benchmark baseline, the query as a first version writes it: aggregates over a JOIN
        # with the reviews (GROUP BY every listing, for the page and for its count), and one
        # query per listing for its host.
        return (Listing.objects.annotate(average_rating=Avg("reviews__rating"),
                                         review_count=Count("reviews"))
                .order_by("-created_at"))
    return _listings().all()  # a fresh clone, never the cached one


@cache
def _listings() -> QuerySet[Listing]:
    # Built once per process (resolving annotations costs Python on every request); callers
    # get clones (.all()); this one is never evaluated.
    own = [field.name for field in Listing._meta.concrete_fields]
    return (
        Listing.objects.annotate(average_rating=F("rating_average"),
                                 review_count=F("rating_count"))
        .select_related("host").only(*own, *HOST_COLUMNS)
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

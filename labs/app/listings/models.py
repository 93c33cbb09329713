import uuid

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q

from core.loading import FastLoadMixin


class Listing(FastLoadMixin, models.Model):
    listing_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="listings")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    location = models.CharField(max_length=200, db_index=True)
    price_per_night = models.DecimalField(max_digits=10, decimal_places=2,
                                          validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept from the reviews by services.refresh_ratings (each review saved or deleted): the
    # public list shows them on every row without aggregating reviews per request.
    rating_average = models.FloatField(null=True, blank=True, editable=False)
    rating_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(price_per_night__gte=0),
                                   name="listing_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class Booking(FastLoadMixin, models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELED = "canceled", "Canceled"

    booking_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="bookings")
    guest = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="bookings")
    start_date = models.DateField()
    end_date = models.DateField()
    total_price = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")),
                                   name="booking_end_after_start"),
            # The database itself refuses two confirmed bookings of one listing whose
            # [start, end) ranges overlap; services check first to give a clear error.
            ExclusionConstraint(
                name="booking_no_overlap_when_confirmed",
                expressions=[
                    (DateRange("start_date", "end_date"), RangeOperators.OVERLAPS),
                    ("listing", RangeOperators.EQUAL),
                ],
                condition=Q(status="confirmed"),
            ),
        ]

    @property
    def nights(self) -> int:
        return (self.end_date - self.start_date).days


class Review(FastLoadMixin, models.Model):
    review_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5),
                                   name="review_rating_1_to_5"),
            models.UniqueConstraint(fields=["listing", "author"], name="one_review_per_guest"),
        ]

import django_filters

from .models import Booking, Listing


class ListingFilter(django_filters.FilterSet):
    location = django_filters.CharFilter(lookup_expr="icontains")
    min_price = django_filters.NumberFilter(field_name="price_per_night", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price_per_night", lookup_expr="lte")
    host = django_filters.UUIDFilter(field_name="host__user_id")

    class Meta:
        model = Listing
        fields = ["location", "min_price", "max_price", "host"]


class BookingFilter(django_filters.FilterSet):
    start_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Booking
        fields = ["status", "listing", "start_after", "start_before"]

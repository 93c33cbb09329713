from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from core.serializers import FastReadMixin

from .models import Booking, Listing, Review


class ListingSerializer(FastReadMixin, serializers.ModelSerializer):
    host = PublicUserSerializer(read_only=True)  # listings are public: no e-mail addresses
    average_rating = serializers.FloatField(read_only=True, allow_null=True, default=None)
    review_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Listing
        fields = ("listing_id", "host", "title", "description", "location", "price_per_night",
                  "average_rating", "review_count", "created_at")
        read_only_fields = ("listing_id", "host", "created_at")

    def validate_price_per_night(self, value):
        if value <= 0:
            raise serializers.ValidationError("Price per night must be positive.")
        return value


class BookingSerializer(serializers.ModelSerializer):
    listing_title = serializers.CharField(source="listing.title", read_only=True)
    guest = serializers.EmailField(source="guest.email", read_only=True)

    class Meta:
        model = Booking
        fields = ("booking_id", "listing", "listing_title", "guest", "start_date", "end_date",
                  "total_price", "status", "created_at")
        read_only_fields = ("booking_id", "guest", "total_price", "status", "created_at")


class BookingCreateSerializer(serializers.Serializer):
    listing = serializers.PrimaryKeyRelatedField(queryset=Listing.objects.all())
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class ReviewSerializer(FastReadMixin, serializers.ModelSerializer):
    author = PublicUserSerializer(read_only=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = Review
        fields = ("review_id", "listing", "author", "rating", "comment", "created_at")
        read_only_fields = ("review_id", "listing", "author", "created_at")

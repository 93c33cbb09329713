from rest_framework import serializers

from listings.models import Booking

from .models import Payment


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ("payment_id", "booking", "amount", "currency", "tx_ref", "status",
                  "checkout_url", "chapa_reference", "created_at", "completed_at")
        read_only_fields = fields


class PaymentInitiateSerializer(serializers.Serializer):
    booking = serializers.PrimaryKeyRelatedField(queryset=Booking.objects.all())
    return_url = serializers.URLField(required=False, allow_blank=True)


class PaymentSettledSerializer(PaymentSerializer):
    """A payment after asking Chapa; `changed` says whether this call changed its status."""

    changed = serializers.BooleanField(read_only=True)

    class Meta(PaymentSerializer.Meta):
        fields = (*PaymentSerializer.Meta.fields, "changed")
        read_only_fields = fields

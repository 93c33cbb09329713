"""Chapa payment endpoints: initiate, verify, Chapa's callback and webhook."""

import logging

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core import parsers

from . import chapa, services
from .models import Payment
from .serializers import PaymentInitiateSerializer, PaymentSerializer, PaymentSettledSerializer

log = logging.getLogger(__name__)

CHAPA_FAILED = "Chapa did not answer or refused the verification."


def _public_url(request, path: str) -> str:
    if settings.APP_PUBLIC_URL:
        return f"{settings.APP_PUBLIC_URL}{path}"
    return request.build_absolute_uri(path)


def _settle(tx_ref: str) -> Response:
    try:
        payment, changed = services.payment_settle(tx_ref=tx_ref)
    except chapa.ChapaError as exc:
        return Response({"detail": f"Chapa: {exc}"}, status=status.HTTP_502_BAD_GATEWAY)
    return Response({**PaymentSerializer(payment).data, "changed": changed})


class PaymentListView(generics.ListAPIView):
    serializer_class = PaymentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Payment.objects.none()
        return Payment.objects.filter(booking__guest=self.request.user).order_by("-created_at")


class PaymentInitiateView(APIView):
    @extend_schema(request=PaymentInitiateSerializer, responses={201: PaymentSerializer})
    def post(self, request):
        serializer = PaymentInitiateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            payment = services.payment_initiate(
                booking=serializer.validated_data["booking"], user=request.user,
                callback_url=_public_url(request, reverse("payment-callback")),
                return_url=serializer.validated_data.get("return_url") or None,
            )
        except services.PaymentError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class PaymentVerifyView(APIView):
    error_responses = {502: CHAPA_FAILED}

    @extend_schema(request=None, responses=PaymentSettledSerializer)
    def get(self, request, tx_ref: str):
        payment = get_object_or_404(Payment.objects.select_related("booking__listing"),
                                    tx_ref=tx_ref)
        user = request.user
        if user.pk not in (payment.booking.guest_id, payment.booking.listing.host_id) \
                and not user.is_privileged:
            raise PermissionDenied()
        # BEGIN SOLUTION lesson 6
        return _settle(tx_ref)
        # STARTER
        # # TODO: ask Chapa for the transaction's status and record it (services.payment_settle)
        # return Response({**PaymentSerializer(payment).data, "changed": False})
        # END SOLUTION


class PaymentCallbackView(APIView):
    """Chapa calls callback_url (GET ?trx_ref=...&status=...) once the checkout ends.

    Nothing in the query string is trusted: the payment is settled from Chapa's verify API.
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    error_responses = {404: "Unknown transaction.", 502: CHAPA_FAILED}

    @extend_schema(parameters=[OpenApiParameter("trx_ref", str)],
                   responses=PaymentSettledSerializer)
    def get(self, request):
        tx_ref = request.query_params.get("trx_ref") or request.query_params.get("tx_ref")
        if not tx_ref or not Payment.objects.filter(tx_ref=tx_ref).exists():
            return Response({"detail": "Unknown transaction."}, status=404)
        return _settle(tx_ref)


class PaymentWebhookView(APIView):
    """Chapa's webhook: the body is signed (HMAC-SHA256, CHAPA_WEBHOOK_SECRET).

    A forged or missing signature gets 401. A genuine event is settled through verify, so a
    replayed or repeated event changes nothing (settle-once).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    error_responses = {401: "Invalid signature.", 502: CHAPA_FAILED}

    # 200: the settled payment (PaymentSettled), or {"detail": ...} for an unknown transaction.
    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        body = request.body
        # BEGIN SOLUTION lesson 6
        if not chapa.webhook_signature_valid(body, request.headers,
                                             settings.CHAPA_WEBHOOK_SECRET):
            log.warning("Chapa webhook with an invalid signature rejected")
            return Response({"detail": "Invalid signature."}, status=401)
        # STARTER
        # # TODO: answer 401 unless the Chapa-Signature / x-chapa-signature header is the
        # # body's HMAC-SHA256 keyed by CHAPA_WEBHOOK_SECRET (chapa.webhook_signature_valid)
        # END SOLUTION
        try:
            event = parsers.loads(body)
        except ValueError:
            return Response({"detail": "Body is not JSON."}, status=400)
        if not isinstance(event, dict):
            return Response({"detail": "Body is not a JSON object."}, status=400)
        data = event.get("data")
        tx_ref = event.get("tx_ref") or (data.get("tx_ref") if isinstance(data, dict) else None)
        if not isinstance(tx_ref, str) or not Payment.objects.filter(tx_ref=tx_ref).exists():
            # Acknowledge so Chapa stops retrying; nothing of ours to update.
            return Response({"detail": "Ignored: unknown transaction."})
        return _settle(tx_ref)

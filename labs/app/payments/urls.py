from django.urls import path

from .views import (
    PaymentCallbackView,
    PaymentInitiateView,
    PaymentListView,
    PaymentVerifyView,
    PaymentWebhookView,
)

urlpatterns = [
    path("payments/", PaymentListView.as_view(), name="payment-list"),
    path("payments/initiate/", PaymentInitiateView.as_view(), name="payment-initiate"),
    path("payments/verify/<str:tx_ref>/", PaymentVerifyView.as_view(), name="payment-verify"),
    path("payments/callback/", PaymentCallbackView.as_view(), name="payment-callback"),
    path("payments/webhook/", PaymentWebhookView.as_view(), name="payment-webhook"),
]

from django.contrib import admin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("tx_ref", "booking", "amount", "currency", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("tx_ref",)

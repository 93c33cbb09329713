from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from chats.models import Message
from listings.models import Booking, Listing


class IsAdminOrModerator(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_privileged)


class AdminStatsView(APIView):
    """Counts for admins and moderators (the role_permission middleware also guards it)."""

    permission_classes = [IsAdminOrModerator]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        roles = dict(User.objects.values_list("role").annotate(n=Count("pk")).order_by())
        return Response({
            "users_by_role": roles,
            "listings": Listing.objects.count(),
            "bookings": Booking.objects.count(),
            "messages": Message.objects.count(),
        })

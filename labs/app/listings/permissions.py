from rest_framework import permissions


class IsHostOrReadOnly(permissions.BasePermission):
    """Anyone reads listings; hosts create them; only a listing's host changes it."""

    message = "Only hosts can manage listings, and only their own."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and (user.is_host or user.is_privileged))

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return obj.host_id == request.user.pk or request.user.is_privileged


class IsGuest(permissions.BasePermission):
    message = "Only guests can book."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == "guest")

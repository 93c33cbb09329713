from rest_framework import permissions

from .models import Conversation, Message


class IsParticipantOfConversation(permissions.BasePermission):
    """Only authenticated participants may see or send messages; only senders edit them."""

    message = "You are not a participant of this conversation."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        # BEGIN SOLUTION lesson 1
        if isinstance(obj, Conversation):
            return obj.participants.filter(pk=request.user.pk).exists()
        if isinstance(obj, Message):
            if request.method in ("PUT", "PATCH", "DELETE"):
                return obj.sender_id == request.user.pk
            return obj.conversation.participants.filter(pk=request.user.pk).exists()
        return False
        # STARTER
        # return True  # TODO: only participants see a conversation; only senders edit
        # END SOLUTION

from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserSerializer
from core.serializers import FastReadMixin

from .models import Conversation, Message, MessageHistory, Notification


class MessageSerializer(FastReadMixin, serializers.ModelSerializer):
    sender = UserSerializer(read_only=True)

    class Meta:
        model = Message
        fields = ("message_id", "conversation", "sender", "body", "sent_at", "edited", "read",
                  "parent_message")
        read_only_fields = ("message_id", "conversation", "sender", "sent_at", "edited", "read")


class UnreadMessageSerializer(serializers.ModelSerializer):
    """Only the columns `Message.unread.unread_for_user()` loads."""

    sender_email = serializers.EmailField(source="sender.email", read_only=True)

    class Meta:
        model = Message
        fields = ("message_id", "conversation", "sender_email", "body", "sent_at",
                  "parent_message")
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)
    parent_message = serializers.UUIDField(required=False, allow_null=True)


class MessageEditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class ConversationSerializer(FastReadMixin, serializers.ModelSerializer):
    participants = UserSerializer(many=True, read_only=True)
    message_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Conversation
        fields = ("conversation_id", "participants", "message_count", "created_at")


class ConversationCreateSerializer(serializers.Serializer):
    participant_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1)

    def validate_participant_ids(self, ids):
        users = list(User.objects.filter(user_id__in=ids))
        if len(users) != len(set(ids)):
            raise serializers.ValidationError("Unknown user id.")
        return users


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("notification_id", "message", "is_read", "created_at")


class MessageHistorySerializer(serializers.ModelSerializer):
    edited_by = serializers.EmailField(source="edited_by.email", read_only=True, default=None)

    class Meta:
        model = MessageHistory
        fields = ("history_id", "old_body", "edited_at", "edited_by")
        read_only_fields = fields

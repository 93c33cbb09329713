import uuid

from django.conf import settings
from django.db import models

from core.loading import FastLoadMixin

from .managers import UnreadMessagesManager


class Conversation(FastLoadMixin, models.Model):
    conversation_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id}"


class Message(FastLoadMixin, models.Model):
    message_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="sent_messages")
    body = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited = models.BooleanField(default=False)
    read = models.BooleanField(default=False)
    parent_message = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="replies")

    objects = models.Manager()
    unread = UnreadMessagesManager()

    class Meta:
        ordering = ["sent_at"]
        indexes = [models.Index(fields=["conversation", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.body[:30]}"


class MessageHistory(FastLoadMixin, models.Model):
    """The body a message had before an edit."""

    history_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="history")
    old_body = models.TextField()
    edited_at = models.DateTimeField(auto_now_add=True)
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="message_edits")

    class Meta:
        ordering = ["-edited_at"]


class Notification(FastLoadMixin, models.Model):
    notification_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="notifications")
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

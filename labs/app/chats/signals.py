"""Lesson 2 signals: notifications, edit history, and cleanup when a user goes."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Conversation, Message, MessageHistory, Notification


@receiver(post_save, sender=Message)
def notify_receivers(sender, instance: Message, created: bool, **kwargs) -> None:
    """A new message notifies every other participant of its conversation."""
    # BEGIN SOLUTION lesson 2
    if not created:
        return
    receivers = instance.conversation.participants.exclude(pk=instance.sender_id)
    Notification.objects.bulk_create(
        Notification(user=user, message=instance) for user in receivers.only("pk")
    )
    # STARTER
    # # TODO: notify every other participant of the conversation
    # END SOLUTION


@receiver(pre_save, sender=Message)
def keep_history_on_edit(sender, instance: Message, **kwargs) -> None:
    """Editing a message keeps its previous body in MessageHistory and marks it edited."""
    # BEGIN SOLUTION lesson 2
    if instance._state.adding:
        return
    old_body = Message.objects.filter(pk=instance.pk).values_list("body", flat=True).first()
    if old_body is None or old_body == instance.body:
        return
    MessageHistory.objects.create(
        message=instance, old_body=old_body,
        edited_by=getattr(instance, "_edited_by", None) or instance.sender,
    )
    instance.edited = True  # callers saving with update_fields must list "edited" too
    # STARTER
    # # TODO: keep the old body in MessageHistory and mark the message edited
    # END SOLUTION


@receiver(post_delete, sender=get_user_model())
def remove_user_data(sender, instance, **kwargs) -> None:
    """Deleting a user removes their messages, notifications and message histories.

    The foreign keys cascade too (so this is a no-op after them, kept explicit for the lesson);
    it also removes conversations nobody is left in.
    """
    MessageHistory.objects.filter(message__sender_id=instance.pk).delete()
    Notification.objects.filter(user_id=instance.pk).delete()
    Message.objects.filter(sender_id=instance.pk).delete()
    Conversation.objects.filter(participants__isnull=True).delete()

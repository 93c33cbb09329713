"""Writes for conversations and messages."""

from django.db import transaction

from accounts.models import User

from .models import Conversation, Message


class NotAParticipant(Exception):
    pass


@transaction.atomic
def conversation_create(*, creator: User, participants: list[User]) -> Conversation:
    conversation = Conversation.objects.create()
    conversation.participants.set({creator, *participants})
    return conversation


def message_create(*, conversation: Conversation, sender: User, body: str,
                   parent_message: Message | None = None) -> Message:
    if not conversation.participants.filter(pk=sender.pk).exists():
        raise NotAParticipant()
    if parent_message is not None and parent_message.conversation_id != conversation.pk:
        raise ValueError("parent_message belongs to another conversation")
    return Message.objects.create(conversation=conversation, sender=sender, body=body,
                                  parent_message=parent_message)


def message_edit(*, message: Message, body: str, editor: User) -> Message:
    """Change the body; the pre_save signal records the old body and sets `edited`."""
    message.body = body
    message._edited_by = editor
    message.save(update_fields=["body", "edited"])
    return message


def messages_mark_read(*, conversation: Conversation, reader: User) -> int:
    return (Message.objects.filter(conversation=conversation, read=False)
            .exclude(sender=reader).update(read=True))

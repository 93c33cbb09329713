"""Reads for conversations and messages."""

from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, QuerySet

from accounts.models import User
from core.pageplan import planned

from .models import Conversation, Message, MessageHistory, Notification


def conversation_list(*, user: User) -> QuerySet[Conversation]:
    # BEGIN SOLUTION lesson 1
    if settings.LAB_NAIVE_QUERIES:  # benchmark baseline: participants queried per conversation
        return (Conversation.objects.filter(participants=user)
                .annotate(message_count=Count("messages", distinct=True))
                .order_by("-created_at"))
    return (
        Conversation.objects.filter(participants=user)
        .annotate(message_count=Count("messages", distinct=True))
        .prefetch_related(Prefetch("participants", queryset=User.objects.order_by("email")))
        .order_by("-created_at")
    )
    # STARTER
    # # TODO: only the conversations `user` takes part in
    # return (Conversation.objects.annotate(message_count=Count("messages", distinct=True))
    #         .prefetch_related("participants").order_by("-created_at"))
    # END SOLUTION


def conversation_for_member_check(*, conversation_id, user: User) -> Conversation | None:
    """The conversation, also saying whether `user` takes part (is_participant reads it), or
    None: one query answers both "does it exist" (404) and "may they read it" (403).

    Every message request asks this, so its SQL is written once per process from the
    models' own table and column names instead of being built by the ORM per request (an
    annotated Exists() subquery: a third of a message page's Python time)."""
    with connection.cursor() as cursor:
        cursor.execute(_member_check_sql(), [user.pk, conversation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    conversation = Conversation.from_db(connection.alias, _conversation_columns(), row[:-1])
    conversation.checked_member, conversation.is_member = user.pk, row[-1]
    return conversation


@cache
def _conversation_columns() -> tuple[str, ...]:
    return tuple(field.attname for field in Conversation._meta.concrete_fields)


@cache
def _member_check_sql() -> str:
    qn = connection.ops.quote_name
    meta, m2m = Conversation._meta, Conversation.participants.field
    members = Conversation.participants.through._meta.db_table
    columns = ", ".join(f"c.{qn(field.column)}" for field in meta.concrete_fields)
    return (f"SELECT {columns}, EXISTS (SELECT 1 FROM {qn(members)} m"
            f" WHERE m.{qn(m2m.m2m_column_name())} = c.{qn(meta.pk.column)}"
            f" AND m.{qn(m2m.m2m_reverse_name())} = %s) FROM {qn(meta.db_table)} c"
            f" WHERE c.{qn(meta.pk.column)} = %s")


def is_participant(*, conversation: Conversation, user: User) -> bool:
    if getattr(conversation, "checked_member", None) == user.pk:  # loaded with the answer
        return conversation.is_member
    return conversation.participants.filter(pk=user.pk).exists()


@planned  # a function of the conversation: its page query is compiled once (core/pageplan.py)
def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    if settings.LAB_NAIVE_QUERIES:  # benchmark baseline: one query per message for its sender
        return Message.objects.filter(conversation=conversation).order_by("sent_at")
    # BEGIN SOLUTION lesson 2
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("sender")
        .order_by("sent_at")
    )
    # STARTER
    # # TODO: the serializer reads each message's sender: load them in the same query
    # return Message.objects.filter(conversation=conversation).order_by("sent_at")
    # END SOLUTION


def message_thread(*, message: Message) -> dict:
    """A message and all replies below it, nested, from one query."""
    rows = list(
        Message.objects.filter(conversation_id=message.conversation_id)
        .select_related("sender")
        .order_by("sent_at")
    )
    children: dict = {}
    for row in rows:
        children.setdefault(row.parent_message_id, []).append(row)

    def build(node: Message) -> dict:
        return {
            "message_id": str(node.message_id),
            "sender": node.sender.email,
            "body": node.body,
            "sent_at": node.sent_at.isoformat(),
            "replies": [build(child) for child in children.get(node.message_id, [])],
        }

    return build(message)


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at")


def message_history(*, message: Message) -> QuerySet[MessageHistory]:
    return message.history.select_related("edited_by").order_by("-edited_at")

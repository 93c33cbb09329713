import django_filters

from .models import Conversation, Message


class ConversationFilter(django_filters.FilterSet):
    participant = django_filters.UUIDFilter(field_name="participants__user_id")

    class Meta:
        model = Conversation
        fields = ["participant"]


class MessageFilter(django_filters.FilterSet):
    """Messages by participant (sender) and time range."""

    participant = django_filters.UUIDFilter(field_name="sender__user_id")
    sent_after = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lte")

    class Meta:
        model = Message
        fields = ["participant", "sent_after", "sent_before", "read"]

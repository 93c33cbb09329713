"""Thin views: validate input, call a service or a selector, serialize the result."""

import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.response import Response

from core.cache import cache_list
from core.lookups import UUID_PATTERN
from core.pagination import PageNumberPagination

from . import selectors, services
from .filters import ConversationFilter, MessageFilter
from .models import Conversation, Message, Notification
from .permissions import IsParticipantOfConversation
from .serializers import (
    ConversationCreateSerializer,
    ConversationSerializer,
    MessageCreateSerializer,
    MessageEditSerializer,
    MessageHistorySerializer,
    MessageSerializer,
    NotificationSerializer,
    UnreadMessageSerializer,
)


class MessagePagination(PageNumberPagination):
    # BEGIN SOLUTION lesson 1
    page_size = 20
    # STARTER
    # page_size = 1000  # TODO: 20 messages per page
    # END SOLUTION


# Cached per user for 60 s, in front of DRF (core/cache.py): the key holds the Authorization
# header (and the session cookie), so a user's list only ever answers that user.
# BEGIN SOLUTION lesson 2
@cache_list(60, vary=("Authorization", "Cookie"))
# STARTER
# # TODO: cache the list for 60 s per user (cache_page, or core.cache.cache_list to answer in
# # front of DRF), varying on Authorization and Cookie
# END SOLUTION
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    serializer_class = ConversationSerializer
    permission_classes = [IsParticipantOfConversation]
    filterset_class = ConversationFilter
    lookup_value_regex = UUID_PATTERN  # also the {conversation_pk} of the nested routes

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Conversation.objects.none()
        return selectors.conversation_list(user=self.request.user)

    @extend_schema(request=ConversationCreateSerializer, responses={201: ConversationSerializer})
    def create(self, request):
        serializer = ConversationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_create(
            creator=request.user, participants=serializer.validated_data["participant_ids"])
        conversation = selectors.conversation_list(user=request.user).get(pk=conversation.pk)
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Messages of one conversation: /api/conversations/{conversation_pk}/messages/."""

    serializer_class = MessageSerializer
    permission_classes = [IsParticipantOfConversation]
    pagination_class = MessagePagination
    filterset_class = MessageFilter
    ordering_fields = ["sent_at"]
    lookup_field = "message_id"
    lookup_value_regex = UUID_PATTERN

    def get_conversation(self) -> Conversation:
        if not hasattr(self, "_conversation"):
            # An id that is no UUID is a 404, not a ValidationError. The conversation comes
            # with whether the user takes part (one query, not two).
            try:
                conversation_id = uuid.UUID(str(self.kwargs["conversation_pk"]))
            except ValueError:
                conversation_id = None
            conversation = conversation_id and selectors.conversation_for_member_check(
                conversation_id=conversation_id, user=self.request.user)
            if conversation is None:
                raise Http404("No Conversation matches the given query.")
            # BEGIN SOLUTION lesson 1
            if not selectors.is_participant(conversation=conversation, user=self.request.user):
                raise PermissionDenied(IsParticipantOfConversation.message)
            # STARTER
            # # TODO: refuse anyone who is not a participant (IsParticipantOfConversation)
            # END SOLUTION
            self._conversation = conversation
        return self._conversation

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        return selectors.message_list(conversation=self.get_conversation())

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    def create(self, request, conversation_pk=None):
        conversation = self.get_conversation()
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        parent = None
        if serializer.validated_data.get("parent_message"):
            parent = get_object_or_404(Message.objects.all(),
                                       pk=serializer.validated_data["parent_message"],
                                       conversation=conversation)
        message = services.message_create(conversation=conversation, sender=request.user,
                                          body=serializer.validated_data["body"],
                                          parent_message=parent)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MessageEditSerializer, responses=MessageSerializer)
    def partial_update(self, request, conversation_pk=None, message_id=None):
        message = self.get_object()
        serializer = MessageEditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_edit(message=message, editor=request.user,
                                        body=serializer.validated_data["body"])
        return Response(MessageSerializer(message).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)  # the message and its replies, nested
    @action(detail=True, methods=["get"])
    def thread(self, request, conversation_pk=None, message_id=None):
        return Response(selectors.message_thread(message=self.get_object()))

    @extend_schema(responses=MessageHistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, conversation_pk=None, message_id=None):
        """Earlier bodies of an edited message, newest first (kept by the pre_save signal)."""
        history = selectors.message_history(message=self.get_object())
        return Response(MessageHistorySerializer(history, many=True).data)

    @extend_schema(request=None, responses=inline_serializer(
        "MarkedRead", {"marked_read": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request, conversation_pk=None):
        count = services.messages_mark_read(conversation=self.get_conversation(),
                                            reader=request.user)
        return Response({"marked_read": count})


class UnreadMessagesView(ListAPIView):
    serializer_class = UnreadMessageSerializer
    pagination_class = MessagePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        return Message.unread.unread_for_user(self.request.user)


class NotificationListView(ListAPIView):
    """The signed-in user's notifications, newest first (made by the post_save signal)."""

    serializer_class = NotificationSerializer
    pagination_class = MessagePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

from django.urls import include, path
from rest_framework_nested.routers import DefaultRouter, NestedDefaultRouter

from .views import (
    ConversationViewSet,
    MessageViewSet,
    NotificationListView,
    UnreadMessagesView,
)

router = DefaultRouter()
router.register(r"conversations", ConversationViewSet, basename="conversation")
conversations_router = NestedDefaultRouter(router, r"conversations", lookup="conversation")
conversations_router.register(r"messages", MessageViewSet, basename="conversation-messages")

urlpatterns = [
    path("messages/unread/", UnreadMessagesView.as_view(), name="messages-unread"),
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("", include(router.urls)),
    path("", include(conversations_router.urls)),
]

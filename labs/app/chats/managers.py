from django.db import models


class UnreadMessagesManager(models.Manager):
    """`Message.unread.unread_for_user(user)`: messages waiting for `user` to read them."""

    def unread_for_user(self, user):
        # BEGIN SOLUTION lesson 2
        return (
            self.get_queryset()
            .filter(conversation__participants=user, read=False)
            .exclude(sender=user)
            .select_related("sender")
            .only("message_id", "conversation_id", "body", "sent_at", "parent_message_id",
                  "sender__user_id", "sender__email")
            .order_by("-sent_at")
        )
        # STARTER
        # # TODO: only messages to `user` (not sent by them) that are still unread, with .only()
        # return self.get_queryset().filter(conversation__participants=user)
        # END SOLUTION

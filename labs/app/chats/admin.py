from django.contrib import admin

from .models import Conversation, Message, MessageHistory, Notification

admin.site.register(Conversation)
admin.site.register(Message)
admin.site.register(MessageHistory)
admin.site.register(Notification)

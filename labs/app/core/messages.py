"""Django's messages framework, only where something shows messages: the admin.

MessageMiddleware builds a message store for every request and checks it on every response
(about 20 µs, a tenth of a whole /healthz); only the admin's pages ever add or show a
message. The admin's system check accepts a subclass.
"""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponse

PREFIX = "/admin/"


class AdminMessageMiddleware(MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith(PREFIX):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if hasattr(request, "_messages"):
            return super().process_response(request, response)
        return response

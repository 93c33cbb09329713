"""413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE, after reading it (a lingering close).

Django raises RequestDataTooBig from the Content-Length alone, before reading the body, and
gunicorn drains at most 64 KiB of an unread body before it closes the socket: a client still
uploading (10 MB) then gets a reset instead of the answer. This middleware answers first, in
JSON, and reads the body away (bounded in bytes and time, as nginx does) so the client
finishes sending and reads the 413 on an intact connection.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import too_large

DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0
CHUNK = 64 * 1024


def drain(request: HttpRequest, length: int) -> bool:
    """Read and drop up to `length` body bytes; True when all of them were read."""
    stream = request.META.get("wsgi.input")
    if stream is None or length > DRAIN_MAX_BYTES:
        return False
    sock = request.META.get("gunicorn.socket")  # bound each read in time where we can
    previous = sock.gettimeout() if sock is not None else None
    deadline = time.monotonic() + DRAIN_SECONDS
    left = length
    try:
        while left > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if sock is not None:
                sock.settimeout(remaining)
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                return False
            left -= len(chunk)
        return True
    except OSError:  # timeout or reset: gunicorn closes the connection
        return False
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if limit is not None and length > limit:
            drain(request, length)
            return too_large()
        return self.get_response(request)

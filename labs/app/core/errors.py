"""JSON error answers everywhere: Django's error views, CSRF failures and DRF's handler.

Clients of the API (and the lesson checks) always get `{"detail": ...}` with a 4xx for a
request the app refuses; a 500 is left for bugs, and it is JSON too.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def too_large() -> JsonResponse:
    return JsonResponse({"detail": "Request body too large: at most "
                                   f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."}, status=413)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return too_large()
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."},
                        status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the Django and database errors that input alone can cause."""
    if isinstance(exc, DjangoValidationError):  # e.g. a model field's to_python
        exc = exceptions.ValidationError({"detail": exc.messages})
    elif isinstance(exc, DataError):  # a value the column cannot hold; never echo the SQL
        log.warning("DataError answered 400: %s", exc)
        exc = exceptions.ValidationError({"detail": "A value is out of range or too long."})
    elif isinstance(exc, RequestDataTooBig):  # the body-size middleware answers first
        exc = PayloadTooLarge()
    return drf_exception_handler(exc, context)

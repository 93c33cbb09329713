"""The OpenAPI schema tells the truth about errors and about who may call what.

drf-spectacular documents only the success response of an operation and asks for a token
wherever a permission class it does not know is in use. This AutoSchema adds, per operation,
the error answers the app really gives (all JSON, see core/errors.py; a view names its own
extra ones in `error_responses`) and marks an operation open to anonymous callers when its
permissions let an anonymous request through.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication


class JWTScheme(SimpleJWTScheme):
    """The bearer-token scheme (`jwtAuth`) for core.auth.JWTAuthentication, simplejwt's own
    class reused per request; drf-spectacular matches its extension on the exact class."""

    target_class = "core.auth.JWTAuthentication"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")


ERROR = ErrorSerializer
# 400 carries either {"detail": ...} or the invalid fields, each with its messages.
VALIDATION = OpenApiTypes.OBJECT
BODY_METHODS = ("POST", "PUT", "PATCH")


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, (body, description) in self.error_responses(operation).items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=body, description=description), code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_responses(self, operation: dict[str, Any]) -> dict[str, tuple[Any, str]]:
        params = operation.get("parameters", [])
        has_body = self.method in BODY_METHODS
        lab = set(settings.LAB_MIDDLEWARE)
        errors: dict[str, tuple[Any, str]] = {
            "400": (VALIDATION, "Malformed request or invalid input."),
        }
        authenticators = self.view.get_authenticators()
        if authenticators:
            errors["401"] = (ERROR, "Missing, invalid or expired credentials.")
        if self.may_forbid(authenticators) or lab & {"access_hours", "role_permission"}:
            errors["403"] = (ERROR, "Not allowed (role, ownership, participation or the "
                                    "lab's access hours).")
        if any(p["in"] == "path" or p["name"] == "page" for p in params):
            errors["404"] = (ERROR, "No such object (or page), or not one of yours.")
        if has_body:
            errors["413"] = (ERROR, "Request body larger than the server accepts.")
        if "requestBody" in operation:
            errors["415"] = (ERROR, "Unsupported Content-Type.")
        if self.method == "POST" and "post_rate_limit" in lab:
            errors["429"] = (ERROR, "Too many POST requests from this address; see "
                                    "Retry-After.")
        # What only the view knows (a wrong password, an upstream that failed).
        for code, description in getattr(self.view, "error_responses", {}).items():
            errors[str(code)] = (ERROR, description)
        return errors

    def may_forbid(self, authenticators: list) -> bool:
        if self.method not in permissions.SAFE_METHODS and any(
                isinstance(a, SessionAuthentication) for a in authenticators):
            return True  # CSRF check of session-authenticated writes
        return not self.allows_anonymous()

    def get_auth(self) -> list[dict[str, list]]:
        auths = super().get_auth()
        if {} not in auths and self.allows_anonymous():
            auths.append({})  # credentials optional
        return auths

    def allows_anonymous(self) -> bool:
        """Whether every permission class lets an anonymous request of this method in."""
        anonymous = SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None)
        try:
            return all(p.has_permission(anonymous, self.view)
                       for p in self.view.get_permissions())
        except Exception:  # a permission that needs a real request: assume it signs in
            return False

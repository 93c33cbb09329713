"""simplejwt's JWT authentication, once per request, without redoing what was just done.

With lesson 2's middlewares on, `core.middleware.request_user` already decoded the bearer
token and loaded its user before the view; DRF would do both again (a second signature check
and a second user query). This class takes their result when there is one.

Across requests, each process also remembers
- tokens it verified, by their exact bytes, until the token's own expiry: the same bytes
  verify the same way, so a known token skips the signature check and JSON decoding (an
  expired one goes through simplejwt again, which says why it is refused);
- users it loaded, by id, for `AUTH_USER_CACHE_SECONDS` (settings), the way services keep
  sessions in a cache: loading the user was a query on every request (a fifth of a list
  request's Python time, and a round trip). A request only ever gets the user its own
  token names, as a copy of its own. A save or delete of a user drops it here at once;
  other processes see a change (a deactivation, a new role) within those seconds. 0 turns
  both off.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

MAX_ENTRIES = 10_000  # a bound on memory: past it, the oldest tenth goes


class Recent:
    """key -> value until a deadline (time.time()), per process, thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, key) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def put(self, key, value, deadline: float) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                for old in list(self._entries)[: MAX_ENTRIES // 10]:
                    del self._entries[old]
            self._entries[key] = (value, deadline)

    def drop(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


users = Recent()
tokens = Recent()


def clear() -> None:
    users.clear()
    tokens.clear()


def _drop_user(sender, instance, **kwargs) -> None:
    users.drop(instance.pk)


post_save.connect(_drop_user, sender=settings.AUTH_USER_MODEL, weak=False,
                  dispatch_uid="core.auth.drop_saved_user")
post_delete.connect(_drop_user, sender=settings.AUTH_USER_MODEL, weak=False,
                    dispatch_uid="core.auth.drop_deleted_user")


class JWTAuthentication(authentication.JWTAuthentication):
    def authenticate(self, request: Request | HttpRequest):
        # DRF's Request wraps Django's; the GraphQL view and the middlewares pass Django's.
        resolved = getattr(getattr(request, "_request", request), "_lab_auth", None)
        if resolved is not None:
            return resolved
        return super().authenticate(request)

    def get_validated_token(self, raw_token: bytes) -> Token:
        if settings.AUTH_USER_CACHE_SECONDS <= 0:
            return super().get_validated_token(raw_token)
        token = tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)  # raises when it is not valid
            expires = token.payload.get("exp")
            if isinstance(expires, int | float):
                tokens.put(raw_token, token, float(expires))
        return token

    def get_user(self, validated_token: Token):
        seconds = settings.AUTH_USER_CACHE_SECONDS
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if seconds <= 0 or user_id is None or api_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        try:
            key = get_user_model()._meta.pk.to_python(user_id)
        except Exception:  # not an id at all: simplejwt's own lookup says why
            return super().get_user(validated_token)
        user = users.get(key)
        if user is None:
            # simplejwt's lookup and checks (missing, inactive) on a miss; on a hit the user
            # was found active seconds ago.
            user = super().get_user(validated_token)
            users.put(key, copy.copy(user), time.time() + seconds)
            return user
        return copy.copy(user)

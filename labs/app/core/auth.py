"""simplejwt's JWT authentication, once per request.

With lesson 2's middlewares on, `core.middleware.request_user` already decoded the bearer
token and loaded its user before the view; DRF would do both again (a second signature check
and a second user query). This class takes their result when there is one.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework_simplejwt import authentication


class JWTAuthentication(authentication.JWTAuthentication):
    def authenticate(self, request: Request):
        resolved = getattr(request._request, "_lab_auth", None)
        if resolved is not None:
            return resolved
        return super().authenticate(request)

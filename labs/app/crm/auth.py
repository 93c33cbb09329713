"""Who may use the CRM: `{ hello }` and the product catalogue are public; customers, orders
and every mutation need a signed-in user (a JWT, see crm.views)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

UNAUTHENTICATED = "Authentication required: send Authorization: Bearer <access token>."


def login_required(resolver: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(resolver)
    def wrapper(root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        user = getattr(info.context, "user", None)
        if user is None or not user.is_authenticated:
            raise GraphQLError(UNAUTHENTICATED, extensions={"code": "UNAUTHENTICATED"})
        return resolver(root, info, *args, **kwargs)

    return wrapper

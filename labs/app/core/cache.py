"""`cache_list`: Django's cache_page on a DRF ViewSet's list route, in front of DRF.

`@method_decorator(cache_page(...))` on `list()` caches inside DRF's dispatch: every hit
still decodes the JWT, loads the user from the database and checks permissions before the
cache answers. Wrapping the route's view instead answers a hit before DRF runs: no
authentication, no SQL, no serialization. The middlewares (lesson 2's rules, metrics, the
query count) still see every request.

Only 200 answers to GET and HEAD are stored (cache_page's rules). The key is the full URL
(filters, page) and the value of each `vary` header, so with "Authorization" a hit answers
only a request bearing the very token that was already allowed that page: per-user data is
never served to another user. (A token that expires while its entry lives still reads that
entry until it does; keep per-user timeouts short.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers
from rest_framework.viewsets import ViewSetMixin

V = TypeVar("V", bound=type[ViewSetMixin])


def cache_list(timeout: int, *, vary: Sequence[str]) -> Callable[[V], V]:
    """Class decorator: cache the list route's view for `timeout` seconds, per `vary`."""
    if not vary:
        raise ValueError("cache_list needs the headers the answer depends on "
                         "(Authorization for anything per user)")

    def decorate(viewset: V) -> V:
        as_view = viewset.as_view

        def cached_as_view(cls, actions: dict | None = None, **initkwargs):
            view = as_view.__func__(cls, actions, **initkwargs)
            if actions and actions.get("get") == "list":
                return cache_page(timeout)(vary_on_headers(*vary)(view))
            return view

        viewset.as_view = classmethod(cached_as_view)  # type: ignore[method-assign]
        return viewset

    return decorate

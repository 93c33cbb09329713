"""`cache_list`: a response cache on a DRF ViewSet's list route, in front of DRF.

`@method_decorator(cache_page(...))` on `list()` caches inside DRF's dispatch: every hit
still decodes the JWT, loads the user from the database and checks permissions before the
cache answers. Wrapping the route's view instead answers a hit before DRF runs: no
authentication, no SQL, no serialization. The middlewares (lesson 2's rules, metrics, the
query count) still see every request.

What is stored and when follows Django's cache_page: only 200 answers to GET and HEAD that
set no cookie and are not `Cache-Control: private`; they get `Cache-Control: max-age` and
`Expires`, a hit gets `Age`. The key is the method, the scheme, host and full path (filters,
page) and the value of each `vary` header, so with "Authorization" a hit answers only a
request bearing the very token that was already allowed that page: per-user data is never
served to another user. (A token that expires while its entry lives still reads that entry
until it does; keep per-user timeouts short.)

Unlike cache_page, a lookup is one cache read under one key (cache_page reads a key list,
then the page, each key an MD5 of the URL and headers), and an entry is the status, headers
and body, not a pickled response object: on a list that is never asked twice (every miss
pays both) that was a tenth of the request's time.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_response_headers, patch_vary_headers
from rest_framework.viewsets import ViewSetMixin

V = TypeVar("V", bound=type[ViewSetMixin])
PREFIX = "core.cache_list:"


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
                return cached(view, timeout, tuple(vary))
            return view

        viewset.as_view = classmethod(cached_as_view)  # type: ignore[method-assign]
        return viewset

    return decorate


def cached(view: Callable[..., HttpResponse], timeout: int,
           vary: tuple[str, ...]) -> Callable[..., HttpResponse]:
    """`view`, answered from the cache for `timeout` seconds per URL and `vary` headers."""
    metas = tuple("HTTP_" + header.upper().replace("-", "_") for header in vary)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = view(request, *args, **kwargs)
            patch_vary_headers(response, vary)
            return response
        meta = request.META
        key = PREFIX + hashlib.md5("\n".join(
            (request.method, request.scheme, meta.get("HTTP_HOST", ""),
             request.get_full_path(), *(meta.get(m, "") for m in metas))
        ).encode(), usedforsecurity=False).hexdigest()
        entry = cache.get(key)
        if entry is not None:
            return _answer(entry)
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, vary)
        if _storable(response):
            patch_response_headers(response, timeout)

            def store(rendered: HttpResponse) -> None:
                cache.set(key, (time.time(), rendered.status_code, tuple(rendered.items()),
                                rendered.content), timeout)

            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.add_post_render_callback(store)
            else:
                store(response)
        return response

    return wrapper


def _storable(response: HttpResponse) -> bool:
    return (response.status_code == 200 and not response.streaming and not response.cookies
            and "private" not in response.get("Cache-Control", ""))


def _answer(entry: tuple) -> HttpResponse:
    stored_at, status, headers, content = entry
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response["Age"] = str(max(0, int(time.time() - stored_at)))
    return response

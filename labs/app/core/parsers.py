"""JSON bodies with a depth limit: `[[[...]]]` is a 400, never a RecursionError (500).

`loads()` serves code that reads JSON itself (GraphQL, the Chapa webhook); `JSONParser` is
DRF's parser with the same guard, the default for every DRF view.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than any body this API takes (GraphQL variables included), far below the
# interpreter's recursion limit.
MAX_DEPTH = 32


class JSONTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels.")


def exceeds_depth(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether containers nest deeper than `limit` (iterative: no recursion on input)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def checked(value: Any) -> Any:
    if isinstance(value, (dict, list)) and exceeds_depth(value):
        raise JSONTooDeep()
    return value


def loads(data: str | bytes) -> Any:
    """json.loads that raises ValueError (JSONTooDeep) for too deeply nested input."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONTooDeep() from None
    return checked(value)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {JSONTooDeep()}") from None
        try:
            return checked(value)
        except JSONTooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

"""What the lesson-3 tests share: the tools a local lesson must not need, and a replacement
for any entry point it must not reach."""

from __future__ import annotations

import pytest

TOOLS = ("go", "docker", "kind", "pulumi", "kubectl")


def forbid(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    """Replace `owner.name` with one that fails the test, naming what lesson 3 used."""
    def called(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"lesson 3 used {getattr(owner, '__name__', owner)}.{name}")

    monkeypatch.setattr(owner, name, called)

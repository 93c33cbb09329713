"""The settings read exactly the variables envcontract declares, and only through it."""

import importlib
from pathlib import Path

import envcontract

SETTINGS = Path(__file__).resolve().parents[1] / "config" / "settings.py"


def test_settings_read_every_contracted_variable_and_nothing_else(monkeypatch):
    import config.settings as module

    read: set[str] = set()
    original = envcontract.value

    def recording(name: str) -> str:
        read.add(name)
        return original(name)

    monkeypatch.setattr(envcontract, "value", recording)
    try:
        importlib.reload(module)
    finally:
        monkeypatch.undo()
        importlib.reload(module)
    assert read == {var.name for var in envcontract.VARIABLES}


def test_settings_do_not_touch_os_environ():
    source = SETTINGS.read_text()
    assert "import os" not in source and "getenv(" not in source and "environ[" not in source


def test_required_variable_missing_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    try:
        envcontract.value("DJANGO_SECRET_KEY")
    except RuntimeError as exc:
        assert "DJANGO_SECRET_KEY" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected RuntimeError")


def test_lab_middleware_switches(monkeypatch):
    import config.settings as module

    try:
        monkeypatch.setenv("LAB_MIDDLEWARE", "post_rate_limit, request_logging")
        reloaded = importlib.reload(module)
        lab = [m for m in reloaded.MIDDLEWARE if m.startswith("core.middleware.")]
        assert lab == ["core.middleware.RequestLoggingMiddleware",
                       "core.middleware.PostRateLimitMiddleware"]
        monkeypatch.setenv("LAB_MIDDLEWARE", "nonsense")
        try:
            importlib.reload(module)
        except RuntimeError as exc:
            assert "nonsense" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("unknown middleware accepted")
    finally:
        monkeypatch.delenv("LAB_MIDDLEWARE", raising=False)
        importlib.reload(module)

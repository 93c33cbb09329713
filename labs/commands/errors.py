"""Every command ends in one clear line when it fails: what failed and what to do.

The project's own errors already say both; anything else (a bug, a broken environment) gets a
one-line summary and its traceback goes to a log file, so a learner in class never faces a
wall of Python. Ctrl-C says the command can simply be run again (every action is resumable).
"""

from __future__ import annotations

import functools
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke import Exit

F = TypeVar("F", bound=Callable[..., Any])

# Errors whose message is written for the user: shown as they are.
_KNOWN = (
    "ToolchainError", "KitError", "SimClusterError", "NoClusterError", "KindError",
    "LabEnvironmentError", "StackLockedError", "LearnerClusterError", "ScaleError",
    "RosterError", "SpecError", "CatalogError", "ProblemsError", "GitError", "StarterError",
    "LoadTestError", "NoChecks",
)


def error_log_path() -> Path:
    from infra.automation import state_paths

    return state_paths().root / "logs" / "last-error.log"


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (first line; the rest is in the log)."""
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return first if type(exc).__name__ in _KNOWN else f"{type(exc).__name__}: {first}"


def _write_log(exc: BaseException, command: str) -> Path | None:
    try:
        path = error_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {time.strftime('%Y-%m-%dT%H:%M:%S')} {command}\n"
                        + "".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


def friendly_errors(fn: F) -> F:
    """Wrap a task body: project errors -> ``error: ...`` (exit 1); others -> one line plus
    the traceback in :func:`error_log_path`; Ctrl-C -> a hint to re-run (exit 130)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        command = " ".join(["invoke", *sys.argv[1:]])
        try:
            return fn(*args, **kwargs)
        except (Exit, SystemExit):
            raise
        except KeyboardInterrupt:
            raise Exit("interrupted: nothing is left half-done that the same command cannot "
                       "finish; run it again to resume", code=130) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
            log = _write_log(exc, command)
            if type(exc).__name__ in _KNOWN:
                where = f" (details: {log})" if log and "\n" in str(exc).strip() else ""
                raise Exit(f"error: {one_line(exc)}{where}", code=1) from None
            where = f"; traceback in {log}" if log else ""
            raise Exit(f"error: `{command}` failed unexpectedly: {one_line(exc)}{where}. "
                       "Run it again to resume; if it fails the same way, report it with "
                       "that file.", code=1) from None

    return wrapper  # type: ignore[return-value]

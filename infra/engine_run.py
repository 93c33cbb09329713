"""One engine operation (up, destroy, refresh) of a stack, and no CLI call around it.

auto.Stack.up follows the update with `stack output` twice and `stack history` once to build
its result, and destroy with `stack history` and `stack rm`: up to three more pulumi
processes per learner, each opening the secrets manager. What a cohort needs from an update
is what changed, and the engine says that itself in the summary event of its event log. This
is Stack.up's own sequence (the inline program served by the SDK's LanguageServer on
loopback) without the reads after it; it uses the SDK's internals, pinned with it
(pulumi==3.272.0 in pyproject.toml).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from pulumi import automation as auto
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc


@dataclass(frozen=True)
class UpdateSummary:
    """The engine's summary event: resource changes by kind ("create", "same", ...)."""

    resource_changes: dict[str, int] = field(default_factory=dict)
    duration_seconds: float | None = None


@dataclass(frozen=True)
class UpdateResult:
    """What an operation returns; `summary.resource_changes` as in auto.UpResult."""

    summary: UpdateSummary
    stdout: str = ""


def run(stack: auto.Stack, args: list[str], program: Callable[[], None] | None,
        on_output: Callable[[str], None] | None = None) -> UpdateResult:
    """`pulumi <args>` for `stack`, serving `program` inline when given."""
    args = [*args, "--color", "never"]
    server = None
    if program is not None:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                             options=_GRPC_CHANNEL_OPTIONS)
        language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program),
                                                                server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        args += [f"--client=127.0.0.1:{port}", "--exec-kind", "inline"]
    with tempfile.TemporaryDirectory(prefix="prodev-labs-events-") as tmp:
        log = Path(tmp) / "events.jsonl"
        args += ["--event-log", str(log)]
        try:
            result = stack._run_pulumi_cmd_sync(args, on_output)  # noqa: SLF001 - see above
        finally:
            if server is not None:
                server.stop(0)
        return UpdateResult(summary_from(log), result.stdout)


def summary_from(log: Path) -> UpdateSummary:
    """The last summary event of an engine event log (JSON lines); empty if none."""
    found = UpdateSummary()
    try:
        lines = log.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        if '"summaryEvent"' not in line:
            continue
        try:
            event = json.loads(line)["summaryEvent"]
        except (ValueError, KeyError):
            continue
        found = UpdateSummary(dict(event.get("resourceChanges") or {}),
                              event.get("durationSeconds"))
    return found

"""Pulumi Automation API: one stack per learner, each in a workspace directory of its own.

The program is the same one `pulumi up` runs from Pulumi.yaml (infra.program.main), run inline
so the engine talks to this process. State goes to the local file backend under the user's
state directory unless PULUMI_BACKEND_URL names another; the secrets passphrase is generated
once (mode 0600) and handed over through PULUMI_CONFIG_PASSPHRASE_FILE. Nothing asks for a
Pulumi Cloud login.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_state_dir
from pulumi import automation as auto

from infra import reaper
from infra.program import CONFIG_NAMESPACE, main
from labs import secrets as lab_secrets
from labs.spec import LabSpec, to_config

PROJECT = "prodev-labs"


@dataclass(frozen=True)
class ClusterTarget:
    """Where environments go: a kubeconfig file and optionally one of its contexts."""

    kubeconfig: Path
    context: str | None = None
    driver: str = "external"  # sim, kind or external


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def backend_dir(self) -> Path:
        return self.root / "pulumi-state"

    @property
    def passphrase_file(self) -> Path:
        return self.root / "passphrase"

    def workspace(self, stack: str) -> Path:
        return self.root / "workspaces" / stack


def state_paths() -> StatePaths:
    override = os.environ.get("PRODEV_LABS_STATE")
    return StatePaths(Path(override) if override else Path(user_state_dir("prodev-labs")))


def ensure_passphrase(paths: StatePaths) -> Path:
    """The secrets passphrase, generated once, readable by its owner only."""
    path = paths.passphrase_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and linked into place: whoever links first wins,
        # and nobody ever reads a half-written passphrase.
        tmp = path.with_name(f".passphrase-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path


def backend_url(paths: StatePaths) -> str:
    url = os.environ.get("PULUMI_BACKEND_URL")
    if url:
        return url
    paths.backend_dir.mkdir(parents=True, exist_ok=True)
    return f"file://{paths.backend_dir}"


class StackLockedError(RuntimeError):
    """Another update holds the learner's stack."""


class LabEnvironmentError(RuntimeError):
    """A Pulumi operation failed; the message is the engine's own diagnostics, trimmed."""


@dataclass(frozen=True)
class Engine:
    """How to run Pulumi: the CLI's directory, the environment it needs, the state paths."""

    pulumi_root: Path | None  # directory holding bin/pulumi; None: pulumi on PATH
    env: Mapping[str, str]
    paths: StatePaths

    @classmethod
    def from_toolchain(cls, chain: Any, paths: StatePaths) -> Engine:
        """The offline toolchain's CLI (infra.cluster.toolchain.Toolchain), run offline."""
        return cls(pulumi_root=chain.pulumi_bin_dir.parent, env=chain.env(), paths=paths)

    def workspace_options(self, spec: LabSpec) -> auto.LocalWorkspaceOptions:
        work_dir = self.paths.workspace(spec.stack_name)
        work_dir.mkdir(parents=True, exist_ok=True)
        env = dict(self.env)
        env["PULUMI_BACKEND_URL"] = backend_url(self.paths)
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(ensure_passphrase(self.paths))
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        env[reaper.MARK] = reaper.run_mark()  # the run's CLIs and their plugins carry it
        command = None
        if self.pulumi_root is not None:
            command = auto.PulumiCommand(root=str(self.pulumi_root), skip_version_check=True)
        return auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars=env,
            pulumi_command=command,
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python",
                                                  backend=auto.ProjectBackend(
                                                      url=env["PULUMI_BACKEND_URL"])),
            secrets_provider="passphrase",
        )


class LearnerStack:
    """One learner's stack: configure, up, destroy, read outputs."""

    def __init__(self, spec: LabSpec, target: ClusterTarget, engine: Engine) -> None:
        self.spec = spec
        self.target = target
        self.engine = engine
        self._stack: auto.Stack | None = None

    @property
    def stack(self) -> auto.Stack:
        if self._stack is None:
            self._stack = auto.create_or_select_stack(
                stack_name=self.spec.stack_name, project_name=PROJECT, program=main,
                opts=self.engine.workspace_options(self.spec))
        return self._stack

    def configure(self, extra_secrets: Mapping[str, str] | None = None) -> None:
        """Write the spec and cluster into stack config; generate missing secrets once."""
        stack = self.stack
        values: dict[str, auto.ConfigValue] = {
            f"{CONFIG_NAMESPACE}:{k}": auto.ConfigValue(v) for k, v in to_config(self.spec).items()
        }
        values["kubernetes:kubeconfig"] = auto.ConfigValue(str(self.target.kubeconfig))
        if self.target.context:
            values["kubernetes:context"] = auto.ConfigValue(self.target.context)
        existing = stack.get_all_config()
        have = {k.split(":", 1)[1] for k in existing if k.startswith(f"{CONFIG_NAMESPACE}:")}
        fresh = lab_secrets.missing(have)
        fresh.update(extra_secrets or {})
        for key, value in fresh.items():
            values[f"{CONFIG_NAMESPACE}:{key}"] = auto.ConfigValue(value, secret=True)
        stack.set_all_config(values)

    def up(self, on_output: Callable[[str], None] | None = None) -> auto.UpResult:
        with reaper.guard():
            self.recover()
            self.configure()
            return self._guard(lambda: self.stack.up(on_output=on_output or _quiet,
                                                     color="never", suppress_progress=True))

    def recover(self) -> None:
        """Make an interrupted update resumable: drop locks of dead local processes, and
        reconcile objects whose creation was cut off (they may exist in the cluster)."""
        clear_stale_locks(self.engine.paths, self.spec.stack_name)
        deployment = self.stack.export_stack().deployment or {}
        if deployment.get("pending_operations"):
            self._guard(lambda: self.stack.refresh(on_output=_quiet, color="never",
                                                   clear_pending_creates=True))

    def preview_changes(self) -> dict[str, int]:
        result = self._guard(lambda: self.stack.preview(on_output=_quiet, color="never"))
        return dict(result.change_summary)

    def destroy(self, on_output: Callable[[str], None] | None = None,
                remove: bool = True) -> None:
        with reaper.guard():
            self._guard(lambda: self.stack.destroy(on_output=on_output or _quiet,
                                                   color="never", suppress_progress=True))
            if remove:
                self.stack.workspace.remove_stack(self.spec.stack_name)

    def outputs(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.stack.outputs().items()}

    def _guard(self, run: Callable[[], Any]) -> Any:
        reaper.raise_if_stopping()
        try:
            return run()
        except auto.ConcurrentUpdateError as exc:
            raise StackLockedError(lock_holder_message(self.spec.stack_name, str(exc))) from None
        except auto.CommandError as exc:
            raise LabEnvironmentError(engine_diagnostics(str(exc))) from None


def _quiet(_: str) -> None:
    return None


def _lock_files(paths: StatePaths, stack: str) -> list[Path]:
    return sorted((paths.backend_dir / ".pulumi" / "locks").glob(f"**/{stack}/*.json"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale_locks(paths: StatePaths, stack: str) -> None:
    """Remove the file backend's locks left by processes of this host that are gone; a live
    holder is reported by name instead."""
    host = socket.gethostname()
    for lock in _lock_files(paths, stack):
        try:
            info = json.loads(lock.read_text())
        except (OSError, ValueError):
            continue
        pid, holder_host = int(info.get("pid", 0)), info.get("hostname", "")
        if holder_host == host and pid and not _pid_alive(pid):
            lock.unlink(missing_ok=True)
        else:
            raise StackLockedError(
                f"stack {stack} is being updated by {info.get('username', '?')}@{holder_host} "
                f"(pid {pid}, since {info.get('timestamp', '?')}). Wait for it to finish.")


def lock_holder_message(stack: str, error: str) -> str:
    """Who holds the stack's lock, from the engine's error (file backends name the holder)."""
    holder = re.search(r"held by ([^\n]+)", error) or re.search(r"lock[^\n]*by ([^\n]+)", error)
    who = holder.group(1).strip() if holder else "another update"
    return (f"stack {stack} is being updated by {who}. Wait for it to finish, or if that "
            f"process is gone, run `pulumi cancel` / remove the stale lock and retry.")


def engine_diagnostics(error: str) -> str:
    """The useful part of a failed pulumi command: its diagnostics, without the preamble."""
    lines = [ln for ln in error.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "Diagnostics:" in ln or "error:" in ln), 0)
    return "\n".join(lines[start:start + 40])


def outputs_json(outputs: Mapping[str, Any]) -> str:
    return json.dumps(outputs, indent=2, sort_keys=True, default=str)

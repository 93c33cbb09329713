"""Pulumi Automation API: one stack per learner, each in a workspace directory of its own.

The program is the same one `pulumi up` runs from Pulumi.yaml (infra.program.main), run inline
so the engine talks to this process. State goes to the local file backend under the user's
state directory unless PULUMI_BACKEND_URL names another; the secrets passphrase is generated
once (mode 0600) and handed over through PULUMI_CONFIG_PASSPHRASE_FILE. Nothing asks for a
Pulumi Cloud login.

Every `pulumi` process costs CPU (0.15-0.35 s: a large Go binary starting, PBKDF2 whenever it
opens the secrets manager), and a cohort starts them per learner. So a learner's update starts
only the ones files cannot replace: `stack init` for a new stack, and the update itself.
Whether the stack exists and whether an interrupted update left pending operations are read
from the local file backend (other backends are asked through the CLI); the stack config is
read and written in the workspace's `Pulumi.<stack>.yaml`, new secrets sealed in Python
(infra.passphrase_crypt).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_state_dir
from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode

from infra import engine_run, passphrase_crypt, processes, reaper, stack_files
from infra.engine_run import UpdateResult
from infra.private_files import create_once
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

    @property
    def salt_file(self) -> Path:
        """The `encryptionsalt` new stacks get (infra.passphrase_crypt)."""
        return self.root / "encryptionsalt"

    def workspace(self, stack: str) -> Path:
        return self.root / "workspaces" / stack


def state_paths() -> StatePaths:
    override = os.environ.get("PRODEV_LABS_STATE")
    return StatePaths(Path(override) if override else Path(user_state_dir("prodev-labs")))


def ensure_passphrase(paths: StatePaths) -> Path:
    """The secrets passphrase, generated once, readable by its owner only."""
    path = paths.passphrase_file
    create_once(path, lambda: secrets.token_urlsafe(32))
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
        return auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars=env,
            pulumi_command=pulumi_command(
                str(self.pulumi_root) if self.pulumi_root is not None else None),
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python",
                                                  backend=auto.ProjectBackend(
                                                      url=env["PULUMI_BACKEND_URL"])),
            secrets_provider="passphrase",
        )


_commands: dict[str | None, auto.PulumiCommand] = {}
_commands_lock = threading.Lock()


def pulumi_command(root: str | None) -> auto.PulumiCommand:
    """One PulumiCommand per CLI: creating one runs `pulumi version`, whatever its options."""
    with _commands_lock:
        if root not in _commands:
            _commands[root] = auto.PulumiCommand(root=root, skip_version_check=True)
        return _commands[root]


class LearnerStack:
    """One learner's stack: configure, up, destroy, read outputs."""

    def __init__(self, spec: LabSpec, target: ClusterTarget, engine: Engine) -> None:
        self.spec = spec
        self.target = target
        self.engine = engine
        self._workspace: auto.LocalWorkspace | None = None
        self._stack: auto.Stack | None = None

    @property
    def workspace(self) -> auto.LocalWorkspace:
        if self._workspace is None:
            options = self.engine.workspace_options(self.spec)
            options.program = main
            self._workspace = auto.LocalWorkspace(**vars(options))
        return self._workspace

    @property
    def work_dir(self) -> Path:
        return Path(self.workspace.work_dir)

    @property
    def stack(self) -> auto.Stack:
        """The learner's stack, created on first use. Every command names it (--stack), so
        an existing one needs no `stack select`."""
        if self._stack is None:
            name = self.spec.stack_name
            exists = self.exists()
            if exists is True:
                self._stack = _KnownStack(name, self.workspace)
            elif exists is False:
                self._stack = self._guard(lambda: _create(name, self.workspace))
            else:
                self._stack = self._guard(lambda: auto.Stack.create_or_select(
                    name, self.workspace))
        return self._stack

    def _checkpoint(self) -> Path | None:
        backend = stack_files.local_backend_dir(backend_url(self.engine.paths))
        if backend is None:
            return None
        return stack_files.checkpoint_path(backend, PROJECT, self.spec.stack_name)

    def exists(self) -> bool | None:
        """Whether the backend holds the stack; None when only the CLI can tell."""
        if stack_files.local_backend_dir(backend_url(self.engine.paths)) is None:
            return None
        return self._checkpoint() is not None

    def desired_config(self) -> dict[str, str]:
        values = {f"{CONFIG_NAMESPACE}:{k}": str(v) for k, v in to_config(self.spec).items()}
        values["kubernetes:kubeconfig"] = str(self.target.kubeconfig)
        if self.target.context:
            values["kubernetes:context"] = self.target.context
        return values

    def configure(self, extra_secrets: Mapping[str, str] | None = None) -> bool:
        """Write the spec and cluster into stack config and generate missing secrets once;
        returns whether anything had to be written (nothing does on a re-run).

        The workspace's stack settings file is written directly: plain values as they are,
        secrets sealed with the state directory's key (infra.passphrase_crypt), and a new
        stack is created after the file so it takes that salt. Only a stack with a salt of
        its own (made by hand, or by an older version) gets its new secrets from the CLI."""
        name = self.spec.stack_name
        doc = stack_files.read_settings(self.work_dir, name)
        config = dict(doc.get("config") or {})
        plain = self.desired_config()
        prefix = f"{CONFIG_NAMESPACE}:"
        fresh = lab_secrets.missing({k.removeprefix(prefix) for k in config
                                     if k.startswith(prefix)})
        fresh.update(extra_secrets or {})
        stale = [k for k, v in plain.items() if _text(config.get(k)) != v]
        if not fresh and not stale:
            _ = self.stack  # it exists (or is created now, for an empty config)
            return False
        passphrase = ensure_passphrase(self.engine.paths).read_text().strip()
        shared = passphrase_crypt.shared_salt_state(self.engine.paths.salt_file, passphrase)
        salt = doc.get("encryptionsalt")
        own_salt = salt not in (None, shared) or (salt is None and self.exists() is not False)
        if fresh and own_salt:
            values = {k: auto.ConfigValue(v) for k, v in plain.items()}
            values |= {f"{prefix}{k}": auto.ConfigValue(v, secret=True) for k, v in fresh.items()}
            self._guard(lambda: self.stack.set_all_config(values))
            return True
        config.update(plain)
        if fresh:
            key = passphrase_crypt.key_for(passphrase, shared)
            config |= {f"{prefix}{k}": {"secure": passphrase_crypt.seal(key, v)}
                       for k, v in fresh.items()}
            doc["encryptionsalt"] = shared
        doc["config"] = config
        stack_files.write_settings(self.work_dir, name, doc)
        _ = self.stack  # created after the file, so with its salt
        return True

    def up(self, on_output: Callable[[str], None] | None = None) -> UpdateResult:
        with reaper.guard():
            self.recover()
            self.configure()
            return self._guard(lambda: engine_run.run(
                self.stack, ["up", "--yes", "--skip-preview", "--suppress-progress"], main,
                on_output or _quiet))

    def recover(self) -> None:
        """Make an interrupted update resumable: drop locks of dead local processes, and
        reconcile objects whose creation was cut off (they may exist in the cluster)."""
        clear_stale_locks(self.engine.paths, self.spec.stack_name)
        if self.exists() is False:
            return  # a new stack: nothing was interrupted
        checkpoint = self._checkpoint()
        pending = stack_files.pending_operations(checkpoint) if checkpoint else None
        if pending is None:
            deployment = self._guard(lambda: self.stack.export_stack()).deployment or {}
            pending = len(deployment.get("pending_operations") or [])
        if pending:
            self._guard(lambda: engine_run.run(
                self.stack, ["refresh", "--yes", "--skip-preview", "--clear-pending-creates",
                             "--suppress-progress"], main, _quiet))

    def preview_changes(self) -> dict[str, int]:
        result = self._guard(lambda: self.stack.preview(on_output=_quiet, color="never"))
        return dict(result.change_summary)

    def destroy(self, on_output: Callable[[str], None] | None = None,
                remove: bool = True) -> None:
        """Delete every object of the stack and (remove) the stack itself, in one CLI run."""
        with reaper.guard():
            clear_stale_locks(self.engine.paths, self.spec.stack_name)
            if self.exists() is False:
                return  # never provisioned, or already removed
            args = ["destroy", "--yes", "--skip-preview", "--suppress-progress"]
            self._guard(lambda: engine_run.run(self.stack, [*args, "--remove"] if remove
                                               else args, main, on_output or _quiet))
            self._sweep_namespace()
            if remove:
                shutil.rmtree(self.work_dir, ignore_errors=True)

    def _sweep_namespace(self, timeout: float = 300.0) -> None:
        """After the engine's destroy: the learner's namespace, if it is still there.

        A cohort run skips intermediate checkpoints (infra.cohort), so one killed during a
        learner's first update leaves objects its state does not record; they are all in
        the learner's namespace, which this deletes. Without the rights to look, nothing."""
        from kubernetes import client

        from infra import namespaces
        from infra.kubeconfig import admin_client

        try:
            core = client.CoreV1Api(admin_client(self.target.kubeconfig, self.target.context))
            if not namespaces.owned_by(core, self.spec):
                return
            namespaces.delete(core, self.spec.namespace)
            left = namespaces.wait_gone(core, [self.spec.namespace], timeout)
        except Exception:  # noqa: BLE001 - unreachable or not allowed: the engine's word stands
            return
        if left:
            raise LabEnvironmentError(f"namespace {self.spec.namespace} is still terminating "
                                      f"after {timeout:.0f}s")

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


class _KnownStack(auto.Stack):
    """A stack the backend is known to hold: no `stack select` (each command says --stack)."""

    def __init__(self, name: str, workspace: auto.Workspace) -> None:
        self.name = name
        self.workspace = workspace
        self._mode = StackInitMode.SELECT


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict) else str(value)


def _create(name: str, workspace: auto.Workspace) -> auto.Stack:
    try:
        return auto.Stack.create(name, workspace)
    except auto.StackAlreadyExistsError:  # created meanwhile by another run
        return _KnownStack(name, workspace)


def _quiet(_: str) -> None:
    return None


def _lock_files(paths: StatePaths, stack: str) -> list[Path]:
    """The stack's lock files (project-scoped and legacy layouts), without walking the whole
    locks tree: it has a directory per stack, and a cohort asks once per learner."""
    locks = paths.backend_dir / ".pulumi" / "locks"
    found: list[Path] = []
    for where in (locks / "organization" / PROJECT / stack, locks / stack):
        if where.is_dir():
            found += where.glob("*.json")
    return sorted(found)


def _pid_alive(pid: int) -> bool:
    """Whether `pid` runs. A killed CLI whose parent died too stays a zombie until init reaps
    it, and a zombie holds no lock: /proc says which it is."""
    proc = processes.read(pid)
    if proc is not None:
        return proc.alive
    if processes.PROC.is_dir():
        return False
    try:  # no /proc: ask the kernel
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

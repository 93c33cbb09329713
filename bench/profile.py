"""Where a cohort run's CPU goes, per learner: each process and each pulumi CLI invocation.

`Ledger` watches a run from inside the process that makes it:
  - every `pulumi` CLI the Automation API starts is waited for with wait4(2), which gives
    its exact CPU time including the plugins it started and reaped (the Kubernetes provider);
  - a sampler thread reads /proc every 50 ms: the CPU of each descendant (so the provider's
    own share can be taken out of its CLI's), of each thread of this process (the inline
    program runs in the language server's gRPC threads, the orchestration in the pool's),
    and of the cluster's processes (API server, etcd, controllers, kwok);
  - the API server's request counters before and after say which calls a learner costs it.
Sampling misses at most the last 50 ms of a process that exits between two samples; the
CLI figures are exact, and the Python total is this process's own getrusage.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import ssl
import subprocess
import threading
import time
import types
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra import processes

INTERVAL = 0.05
# What each CLI invocation is for (the Automation API's reason), by its subcommand.
WHY = {
    "version": "PulumiCommand(): every new one asks the CLI its version",
    "stack select": "create_or_select_stack: select the learner's stack",
    "stack init": "create_or_select_stack: the stack is new",
    "stack export": "recover: look for pending operations of an interrupted update",
    "config": "configure: read the stack config (which secrets exist)",
    "config set-all": "configure: write the spec and any new secrets",
    "up": "the update: engine, provider, inline program",
    "stack output": "Stack.up reads the outputs (masked)",
    "stack output --show-secrets": "Stack.up reads the outputs (plaintext)",
    "stack history": "Stack.up reads the update summary",
    "refresh": "recover: reconcile pending creates",
    "destroy": "down",
    "stack rm": "down: remove the stack",
}


def cli_label(argv: tuple[str, ...] | list[str]) -> str:
    """`stack select`, `config set-all`, `up`: the words before the first flag."""
    words = []
    for arg in argv[1:]:
        if arg.startswith("-"):
            if words:
                break
            continue
        words.append(arg)
        if len(words) == 2 or words[0] not in ("stack", "config", "plugin"):
            break
    label = " ".join(words)
    if label == "stack output" and "--show-secrets" in argv:
        label += " --show-secrets"
    return label


@dataclass
class CliCall:
    pid: int
    label: str
    cpu: float  # wait4: the CLI and every descendant it reaped
    wall: float


@dataclass
class Ledger:
    """Accounts one run's CPU; use as a context manager around the run."""

    cluster: Mapping[str, int] = field(default_factory=dict)  # component name -> pid
    metrics_url: str | None = None
    tls: ssl.SSLContext | None = None
    calls: list[CliCall] = field(default_factory=list)
    procs: dict[int, processes.Proc] = field(default_factory=dict)  # descendants, last seen
    threads: dict[int, float] = field(default_factory=dict)  # tid -> CPU, last seen
    thread_names: dict[int, str] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)  # process kind -> bytes
    _seen: dict[int, int] = field(default_factory=dict)  # pid -> ppid, every pid met
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Ledger:
        self._cluster_start = {n: _cpu_of(p) for n, p in self.cluster.items()}
        self._requests_start = self._requests()
        self._self_start = _self_cpu()
        self._threads_start = processes.thread_cpu(os.getpid())
        self._wall = time.monotonic()
        self._sampler = threading.Thread(target=self._sample_loop, name="profile-sampler",
                                         daemon=True)
        self._sampler.start()
        self._patch = _account_cli(self._record_cli)
        self._patch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.__exit__(None, None, None)
        self._stop.set()
        self._sampler.join()
        self.wall = time.monotonic() - self._wall
        self.self_cpu = _self_cpu() - self._self_start
        self.cluster_cpu = {n: _cpu_of(p) - self._cluster_start[n]
                            for n, p in self.cluster.items()}
        after = self._requests()
        self.requests = Counter({k: v - self._requests_start.get(k, 0)
                                 for k, v in after.items()
                                 if v - self._requests_start.get(k, 0) > 0})

    # --- collection
    def _record_cli(self, pid: int, argv: list[str], cpu: float, wall: float) -> None:
        with self._lock:
            self.calls.append(CliCall(pid, cli_label(argv), cpu, wall))

    def _sample_loop(self) -> None:
        me = os.getpid()
        while not self._stop.wait(INTERVAL):
            self._sample(me)
        self._sample(me)

    def _sample(self, me: int) -> None:
        for pid in processes.pids():
            if pid not in self._seen:
                proc = processes.read(pid)
                self._seen[pid] = proc.ppid if proc else 0
        for pid in list(self._seen):
            if pid in self.procs or self._descends(pid, me):
                proc = processes.read(pid)
                if proc is not None and proc.alive:
                    self.procs[pid] = proc
                    kind = _plugin_kind(proc) or proc.name
                    self.peak_rss[kind] = max(self.peak_rss.get(kind, 0), processes.rss(pid))
        names = {t.native_id: t.name for t in threading.enumerate()}
        for tid, cpu in processes.thread_cpu(me).items():
            self.threads[tid] = cpu
            if tid in names:
                self.thread_names[tid] = names[tid]

    def _descends(self, pid: int, root: int) -> bool:
        for _ in range(8):
            pid = self._seen.get(pid, 0)
            if pid == root:
                return True
            if pid <= 1:
                return False
        return False

    def _requests(self) -> Counter:
        if not self.metrics_url:
            return Counter()
        try:
            with urllib.request.urlopen(self.metrics_url, context=self.tls, timeout=10) as r:
                text = r.read().decode()
        except OSError:
            return Counter()
        out: Counter = Counter()
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            key = f"{labels.get('verb')} {labels.get('resource') or labels.get('subresource')}"
            out[key] += float(line.rsplit(" ", 1)[1])
        return out

    # --- the report
    def report(self, learners: int) -> dict:
        per = 1 / max(learners, 1)
        by_label: dict[str, list[CliCall]] = defaultdict(list)
        for call in self.calls:
            by_label[call.label].append(call)
        plugins: dict[str, float] = defaultdict(float)
        by_pid = {c.pid: c for c in self.calls}
        reaped_by: dict[int, float] = defaultdict(float)
        for proc in self.procs.values():
            kind = _plugin_kind(proc)
            if kind is None:
                continue
            plugins[kind] += proc.cpu
            if proc.ppid in by_pid:
                reaped_by[proc.ppid] += proc.cpu
        cli_rows = []
        for label, calls in sorted(by_label.items(), key=lambda kv: -sum(c.cpu for c in kv[1])):
            own = sum(max(c.cpu - reaped_by.get(c.pid, 0.0), 0.0) for c in calls)
            cli_rows.append({"command": f"pulumi {label}", "why": WHY.get(label, ""),
                             "calls_per_learner": len(calls) * per,
                             "cpu_per_call": own / len(calls),
                             "cpu_per_learner": own * per,
                             "wall_per_call": sum(c.wall for c in calls) / len(calls)})
        sampler = sum(cpu - self._threads_start.get(tid, 0.0)
                      for tid, cpu in self.threads.items()
                      if self.thread_names.get(tid) == "profile-sampler")
        python_total = self.self_cpu - sampler
        groups: dict[str, float] = defaultdict(float)
        for tid, cpu in self.threads.items():
            group = _thread_group(self.thread_names.get(tid))
            if group is not None:
                groups[group] += cpu - self._threads_start.get(tid, 0.0)
        groups["other (gRPC core, interpreter)"] = max(python_total - sum(groups.values()), 0)
        return {
            "learners": learners,
            "wall_s": self.wall,
            "cli": cli_rows,
            "plugins": {k: v * per for k, v in plugins.items()},
            "python": {"total": python_total * per,
                       **{k: v * per for k, v in sorted(groups.items())}},
            "cluster": {k: v * per for k, v in self.cluster_cpu.items()},
            "apiserver_requests": {k: v * per for k, v in self.requests.most_common(40)},
            "peak_rss_mb": {k: v / 2**20 for k, v in sorted(self.peak_rss.items())},
            "client_cpu_per_learner": (python_total + sum(c.cpu for c in self.calls)) * per,
            "cluster_cpu_per_learner": sum(self.cluster_cpu.values()) * per,
        }


def _plugin_kind(proc: processes.Proc) -> str | None:
    name = proc.name
    if name.startswith("pulumi-resource-"):
        return f"provider ({name.removeprefix('pulumi-resource-')})"
    if name.startswith("pulumi-language-"):
        return "language host"
    if "python" in name and any("pulumi-language-python-exec" in a for a in proc.argv):
        return "python program (language host)"
    return None


def _thread_group(name: str | None) -> str | None:
    if name is None:
        return None  # not a Python thread: counted with the rest below
    if name == "profile-sampler":
        return None
    if name.startswith("ThreadPoolExecutor"):
        return "inline program + language server (gRPC servicer threads)"
    if name.startswith("learner"):
        return "orchestration (Automation API calls, per learner)"
    if "consumer" in name:
        return "CLI output readers"
    if name == "MainThread":
        return "main thread"
    return "other Python threads"


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cpu_of(pid: int) -> float:
    proc = processes.read(pid)
    return proc.cpu if proc else 0.0


@contextlib.contextmanager
def _account_cli(record) -> Iterator[None]:
    """Run the Automation API's pulumi commands through a Popen that waits with wait4."""
    from pulumi.automation import _cmd

    class AccountedPopen(subprocess.Popen):
        def __init__(self, args, *a, **kw) -> None:
            self._started = time.monotonic()
            super().__init__(args, *a, **kw)

        def _try_wait(self, wait_flags: int):  # noqa: ANN202 - CPython's private hook
            try:
                pid, status, usage = os.wait4(self.pid, wait_flags)
            except ChildProcessError:
                return self.pid, 0
            if pid == self.pid:
                record(pid, list(self.args), usage.ru_utime + usage.ru_stime,
                       time.monotonic() - self._started)
            return pid, status

    def check_output(cmd, **kw):  # noqa: ANN001, ANN202 - PulumiCommand's `pulumi version`
        with AccountedPopen(cmd, stdout=subprocess.PIPE, **kw) as proc:
            out, _ = proc.communicate()
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd, out)
        return out

    original = _cmd.subprocess
    _cmd.subprocess = types.SimpleNamespace(**{**vars(subprocess), "Popen": AccountedPopen,
                                               "check_output": check_output})
    try:
        yield
    finally:
        _cmd.subprocess = original


def secrets_cost(pulumi: Path, cwd: Path, env: Mapping[str, str], stack: str,
                 rounds: int = 3) -> float:
    """CPU of opening the passphrase secrets manager (PBKDF2, 1,000,000 rounds) in one CLI
    call: `stack output` with --show-secrets minus without, on a provisioned stack."""
    def cpu(*extra: str) -> float:
        total = 0.0
        for _ in range(rounds):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([str(pulumi), "--non-interactive", "stack", "output", "--json",
                            *extra, "--stack", stack], cwd=cwd, env=dict(env),
                           capture_output=True, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            total += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return total / rounds

    return max(cpu("--show-secrets") - cpu(), 0.0)

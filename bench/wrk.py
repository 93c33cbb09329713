"""wrk against one endpoint of the sample API, with the machine's load beside each figure.

wrk is a C load generator (one epoll loop per thread): on the same 2 cores it leaves the
server almost all the CPU, where Locust (Python, a few thousand requests/s per core at best)
takes a large share and so understates the server. Each run is bounded in time, targets
127.0.0.1 only, and reports requests/s, latency percentiles (µs precision from wrk's own
histogram, printed as JSON by a Lua `done` hook) and errors.

Beside each figure: the 1-minute load average when it started, and how many cores other
processes used during it (the machine's busy time minus the benchmark's own processes), so a
number measured while a Go build ran says so.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MARK = "WRKJSON "
CLK_TCK = os.sysconf("SC_CLK_TCK")


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass(frozen=True)
class Target:
    """What one wrk run requests: `paths` cycled per connection thread, each with a token."""

    name: str
    paths: tuple[str, ...]
    tokens: tuple[str, ...] = ()
    # A query parameter unique to each request: every request misses any response cache.
    unique: bool = False


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    load_1m: float = 0.0
    other_cores: float = 0.0
    # CPU ms per request of each named process tree ("app": gunicorn, "postgres")
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return asdict(self) | {"failures": self.failures}


def _lua_list(items: Iterable[str]) -> str:
    return "{" + ", ".join(json.dumps(i) for i in items) + "}"


def lua_script(target: Target, run_id: str) -> str:
    """The Lua script for `target`: requests, and the JSON summary wrk prints at the end."""
    dynamic = len(target.paths) > 1 or len(target.tokens) > 1 or target.unique
    lines = [f"local paths = {_lua_list(target.paths)}",
             f"local tokens = {_lua_list(target.tokens)}",
             f"local unique = {'true' if target.unique else 'false'}",
             f'local run = "{run_id}"',
             "local n = 0",
             "local next_id = 0",
             "setup = function(thread)",
             "  next_id = next_id + 1",
             "  thread:set('tid', next_id)",
             "end"]
    if dynamic:
        lines += [
            "request = function()",
            "  n = n + 1",
            "  local path = paths[(n - 1) % #paths + 1]",
            "  if unique then",
            "    local sep = string.find(path, '?', 1, true) and '&' or '?'",
            "    path = path .. sep .. 'nocache=' .. run .. '-' .. tostring(tid) .. '-' .. n",
            "  end",
            "  local headers = {}",
            "  if #tokens > 0 then",
            "    headers['Authorization'] = 'Bearer ' .. tokens[(n - 1) % #tokens + 1]",
            "  end",
            "  return wrk.format('GET', path, headers)",
            "end"]
    else:  # one fixed request: wrk builds it once, the cheapest way to drive a server
        lines += [f"wrk.path = {json.dumps(target.paths[0])}"]
        if target.tokens:
            lines += [f"wrk.headers['Authorization'] = 'Bearer ' .. {json.dumps(target.tokens[0])}"]
    lines += [
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format('" + MARK + "{\"requests\": %d, \"duration_us\": %d, "
        "\"p50\": %d, \"p90\": %d, \"p99\": %d, \"max\": %d, \"connect\": %d, \"read\": %d, "
        "\"write\": %d, \"status\": %d, \"timeout\": %d}\\n', summary.requests, "
        "summary.duration, latency:percentile(50), latency:percentile(90), "
        "latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, "
        "e.timeout))",
        "end"]
    return "\n".join(lines) + "\n"


def parse(stdout: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"wrk printed no summary:\n{stdout[-2000:]}")


# --- how busy the machine was -------------------------------------------------------------
def _busy_jiffies() -> int:
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)


def _processes() -> dict[int, tuple[int, int, int]]:
    """pid: (parent pid, session id, CPU clock ticks: utime + stime) of every live process."""
    procs = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        # after the command: state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12)
        procs[int(entry.name)] = (int(rest[1]), int(rest[3]), int(rest[11]) + int(rest[12]))
    return procs


def _tree_jiffies(procs: dict[int, tuple[int, int, int]], root: int) -> int:
    """CPU ticks of `root` and every live descendant (Postgres backends start sessions of
    their own, so a session id would miss them)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][2]
        todo.extend(children.get(pid, ()))
    return total


def _children_jiffies() -> int:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * CLK_TCK)


class LoadMeter:
    """CPU seconds of each named process tree (the app's gunicorn, Postgres), and the cores
    every other process used meanwhile (this process and its children, wrk or Locust, count
    as ours).

    The CPU a server spends per request barely moves when other work shares the machine;
    requests/s and latency do.
    """

    def __init__(self, roots: Mapping[str, int | None]) -> None:
        self.roots = {name: pid for name, pid in roots.items() if pid}
        self.session = os.getsid(0)

    def _sample(self) -> tuple[int, dict[str, int], int]:
        procs = _processes()
        trees = {name: _tree_jiffies(procs, pid) for name, pid in self.roots.items()}
        mine = sum(cpu for _, sid, cpu in procs.values() if sid == self.session)
        return _busy_jiffies(), trees, mine + _children_jiffies()

    def __enter__(self) -> LoadMeter:
        self.load_1m = os.getloadavg()[0]
        self.started = time.monotonic()
        self.before = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-3)
        busy, trees, mine = self._sample()
        used = {name: trees[name] - self.before[1][name] for name in trees}
        ours = sum(used.values()) + mine - self.before[2]
        self.other_cores = round(max(busy - self.before[0] - ours, 0) / CLK_TCK / elapsed, 2)
        # A process that exits during the run takes its CPU time with it (a database
        # connection closed by its age): then the figure is unknown, not negative.
        self.cpu_s = {name: ticks / CLK_TCK for name, ticks in used.items() if ticks >= 0}


def run(url: str, target: Target, *, duration: int = 15, connections: int = 16,
        threads: int = 2, roots: Mapping[str, int | None] | None = None,
        timeout_s: int = 10) -> WrkResult:
    """One bounded wrk run of `target` against `url` (a loopback address)."""
    host = urlsplit(url).hostname or ""
    if not host.startswith("127."):
        raise ValueError(f"{url}: the benchmark only targets loopback (127.0.0.0/8)")
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk "
                           "(scripts/install-test-deps.sh installs it)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(target, uuid.uuid4().hex[:8]))
        script = fh.name
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s",
            "-s", script, url.rstrip("/") + target.paths[0]]
    try:
        with LoadMeter(roots or {}) as meter:
            proc = subprocess.run(argv, capture_output=True, text=True, check=False,
                                  timeout=duration + timeout_s + 30)
    finally:
        Path(script).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-2000:]}")
    raw = parse(proc.stdout)
    seconds = raw["duration_us"] / 1e6
    return WrkResult(
        requests=raw["requests"], duration_s=round(seconds, 2),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=round(raw["p50"] / 1000, 2), p90_ms=round(raw["p90"] / 1000, 2),
        p99_ms=round(raw["p99"] / 1000, 2), max_ms=round(raw["max"] / 1000, 2),
        errors={k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]},
        load_1m=round(meter.load_1m, 2), other_cores=meter.other_cores,
        cpu_ms_per_request={name: round(cpu / raw["requests"] * 1000, 3)
                            for name, cpu in meter.cpu_s.items()} if raw["requests"] else {})

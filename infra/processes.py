"""The process table as Linux's /proc shows it: who runs, its parent, its CPU time, its marks.

Small and dependency-free on purpose: the reaper (infra.reaper) and the cohort profile
(bench.profile) both read it, and neither should need psutil for four fields of a text file.
On systems without /proc every reader returns nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Proc:
    """One process: identity (pid + start time, since pids are reused), family, CPU so far."""

    pid: int
    ppid: int
    pgid: int
    start: int  # clock ticks after boot: with pid, names the process across pid reuse
    state: str  # R, S, D, Z, ...
    cpu: float  # user + system seconds of the process itself (threads included)
    argv: tuple[str, ...]

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name if self.argv else ""

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")


def _stat_fields(text: str) -> list[str]:
    # comm may hold spaces and parentheses: the fields start after the last ')'
    return text.rsplit(")", 1)[1].split()


def read(pid: int) -> Proc | None:
    """The process `pid`, or None when it is gone (or /proc cannot be read)."""
    try:
        fields = _stat_fields((PROC / str(pid) / "stat").read_text())
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    argv = tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a)
    # fields[0] is field 3 of proc(5): state, ppid, pgrp, ..., utime(14), stime(15), starttime(22)
    return Proc(pid=pid, ppid=int(fields[1]), pgid=int(fields[2]), start=int(fields[19]),
                state=fields[0], cpu=(int(fields[11]) + int(fields[12])) / TICKS, argv=argv)


def pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir(PROC) if p.isdigit()]
    except OSError:
        return []


def table() -> dict[int, Proc]:
    found = {}
    for pid in pids():
        proc = read(pid)
        if proc is not None:
            found[pid] = proc
    return found


def rss(pid: int) -> int:
    """Resident memory of `pid` in bytes (0 when gone)."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def environ(pid: int, key: str) -> str | None:
    """`key`'s value in the environment `pid` was started with (same user only)."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = key.encode() + b"="
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix):].decode(errors="replace")
    return None


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread of `pid`, by thread id."""
    out = {}
    try:
        tids = os.listdir(PROC / str(pid) / "task")
    except OSError:
        return out
    for tid in tids:
        try:
            fields = _stat_fields((PROC / str(pid) / "task" / tid / "stat").read_text())
        except OSError:
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


def identity(pid: int) -> str | None:
    """`<pid>:<start>`: names a process for as long as it lives, never a later one."""
    proc = read(pid)
    return f"{pid}:{proc.start}" if proc else None


def is_alive(ident: str) -> bool:
    """Whether the process named by identity() still runs."""
    try:
        pid, start = (int(x) for x in ident.split(":", 1))
    except ValueError:
        return False
    proc = read(pid)
    return proc is not None and proc.alive and proc.start == start

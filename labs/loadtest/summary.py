"""Read Locust's CSV output, check a lesson's SLO, and print a summary table.

Locust (`--csv PREFIX --csv-full-history`) writes:
- PREFIX_stats.csv: one row per endpoint plus an `Aggregated` row, totals for the whole run;
- PREFIX_stats_history.csv: one row per endpoint and second (Aggregated included), with
  cumulative counts and the percentiles of the last few seconds;
- PREFIX_failures.csv: one row per distinct failure.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.table import Table

AGGREGATED = "Aggregated"


def _float(raw: str | None) -> float | None:
    if raw is None or raw.strip() in {"", "N/A"}:
        return None
    return float(raw)


def _int(raw: str | None) -> int:
    value = _float(raw)
    return int(value) if value is not None else 0


@dataclass(frozen=True)
class EndpointStats:
    """One row of PREFIX_stats.csv (times in milliseconds)."""

    method: str
    name: str
    requests: int
    failures: int
    median_ms: float | None
    average_ms: float | None
    min_ms: float | None
    max_ms: float | None
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @classmethod
    def from_row(cls, row: dict[str, str]) -> EndpointStats:
        return cls(method=row["Type"], name=row["Name"], requests=_int(row["Request Count"]),
                   failures=_int(row["Failure Count"]),
                   median_ms=_float(row["Median Response Time"]),
                   average_ms=_float(row["Average Response Time"]),
                   min_ms=_float(row["Min Response Time"]),
                   max_ms=_float(row["Max Response Time"]),
                   rps=_float(row["Requests/s"]) or 0.0,
                   failures_per_s=_float(row["Failures/s"]) or 0.0,
                   p50_ms=_float(row["50%"]), p95_ms=_float(row["95%"]),
                   p99_ms=_float(row["99%"]))


@dataclass(frozen=True)
class HistoryPoint:
    """One Aggregated row of PREFIX_stats_history.csv."""

    timestamp: int
    users: int
    total_requests: int
    total_failures: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Summary:
    endpoints: tuple[EndpointStats, ...]
    total: EndpointStats
    history: tuple[HistoryPoint, ...] = ()
    failures: tuple[dict[str, str], ...] = ()

    @property
    def error_rate(self) -> float:
        return self.total.error_rate

    def endpoint(self, name: str) -> EndpointStats:
        for row in self.endpoints:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def peak_users(self) -> int:
        return max((p.users for p in self.history), default=0)

    def to_dict(self) -> dict:
        def row(e: EndpointStats) -> dict:
            return {"method": e.method, "name": e.name, "requests": e.requests,
                    "failures": e.failures, "error_rate": e.error_rate, "rps": e.rps,
                    "p50_ms": e.p50_ms, "p95_ms": e.p95_ms, "p99_ms": e.p99_ms,
                    "average_ms": e.average_ms, "max_ms": e.max_ms}

        return {"total": row(self.total), "endpoints": [row(e) for e in self.endpoints],
                "peak_users": self.peak_users}


def read_stats(path: Path) -> tuple[tuple[EndpointStats, ...], EndpointStats]:
    with open(path, newline="") as fh:
        rows = [EndpointStats.from_row(r) for r in csv.DictReader(fh)]
    total = [r for r in rows if r.name == AGGREGATED and not r.method]
    if len(total) != 1:
        raise ValueError(f"{path}: expected one Aggregated row, found {len(total)}")
    return tuple(r for r in rows if r is not total[0]), total[0]


def read_history(path: Path) -> tuple[HistoryPoint, ...]:
    if not path.exists():
        return ()
    points = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["Name"] != AGGREGATED or r["Type"]:
                continue
            points.append(HistoryPoint(
                timestamp=_int(r["Timestamp"]), users=_int(r["User Count"]),
                total_requests=_int(r["Total Request Count"]),
                total_failures=_int(r["Total Failure Count"]),
                p50_ms=_float(r["50%"]), p95_ms=_float(r["95%"]), p99_ms=_float(r["99%"])))
    return tuple(points)


def read_failures(path: Path) -> tuple[dict[str, str], ...]:
    if not path.exists():
        return ()
    with open(path, newline="") as fh:
        return tuple(csv.DictReader(fh))


def parse(prefix: Path | str) -> Summary:
    """The summary of one run from Locust's CSV files `PREFIX_stats.csv` etc."""
    prefix = Path(prefix)
    endpoints, total = read_stats(Path(f"{prefix}_stats.csv"))
    return Summary(endpoints=endpoints, total=total,
                   history=read_history(Path(f"{prefix}_stats_history.csv")),
                   failures=read_failures(Path(f"{prefix}_failures.csv")))


def rates(history: Iterable[HistoryPoint]) -> list[tuple[int, float, float]]:
    """(timestamp, requests/s, failures/s) from the cumulative counts between samples."""
    out: list[tuple[int, float, float]] = []
    previous: HistoryPoint | None = None
    for point in history:
        if previous is not None and point.timestamp > previous.timestamp:
            dt = point.timestamp - previous.timestamp
            out.append((point.timestamp,
                        max(0, point.total_requests - previous.total_requests) / dt,
                        max(0, point.total_failures - previous.total_failures) / dt))
        previous = point
    return out


# --- SLO --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slo:
    """What a lesson asks of the API: p95 under a bound at N users and few errors."""

    p95_ms: float
    max_error_rate: float = 0.01
    users: int | None = None  # the load the bound applies at (None: whatever was run)
    endpoint: str = AGGREGATED  # one endpoint's p95, or the whole run's

    def describe(self) -> str:
        at = f" at {self.users} users" if self.users else ""
        where = "" if self.endpoint == AGGREGATED else f" on {self.endpoint}"
        return (f"p95{where} < {self.p95_ms:g} ms{at}, "
                f"error rate < {self.max_error_rate:.1%}")


@dataclass(frozen=True)
class SloCheck:
    name: str
    observed: str
    bound: str
    ok: bool


@dataclass(frozen=True)
class SloResult:
    slo: Slo
    checks: tuple[SloCheck, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)


# Lesson 8 is the load-testing lesson; others get the same default unless they set one.
DEFAULT_SLO = Slo(p95_ms=500, max_error_rate=0.01)
LESSON_SLOS: dict[int, Slo] = {8: Slo(p95_ms=500, max_error_rate=0.01, users=50)}


def slo_for_lesson(lesson: int | None) -> Slo:
    return LESSON_SLOS.get(lesson or 0, DEFAULT_SLO)


def check_slo(summary: Summary, slo: Slo, users: int | None = None) -> SloResult:
    """Did the run meet the SLO? `users` is the load run (else the peak seen in the history)."""
    stats = summary.total if slo.endpoint == AGGREGATED else summary.endpoint(slo.endpoint)
    p95 = stats.p95_ms
    checks = [
        SloCheck("p95 latency", "n/a" if p95 is None else f"{p95:g} ms", f"< {slo.p95_ms:g} ms",
                 p95 is not None and p95 < slo.p95_ms),
        SloCheck("error rate", f"{summary.error_rate:.2%}", f"< {slo.max_error_rate:.1%}",
                 summary.total.requests > 0 and summary.error_rate < slo.max_error_rate),
    ]
    if slo.users:
        ran = users if users is not None else summary.peak_users
        checks.append(SloCheck("users", str(ran), f">= {slo.users}", ran >= slo.users))
    return SloResult(slo=slo, checks=tuple(checks))


# --- terminal ---------------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def summary_table(summary: Summary, title: str = "Load test") -> Table:
    """A rich table: one row per endpoint and the total."""
    table = Table(title=title)
    for column in ("endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        if column == "endpoint":
            table.add_column(column, no_wrap=True, overflow="fold")
        else:
            table.add_column(column, justify="right")
    rows = sorted(summary.endpoints, key=lambda e: -e.requests)
    for e in [*rows, summary.total]:
        label = "total" if e is summary.total else f"{e.method} {e.name}".strip()
        if e.name.startswith(f"{e.method} "):
            label = e.name
        table.add_row(escape(label), f"{e.requests:,}", f"{e.failures:,}", f"{e.rps:,.1f}",
                      _ms(e.p50_ms), _ms(e.p95_ms), _ms(e.p99_ms),
                      end_section=e is rows[-1] if rows else False,
                      style="bold" if e is summary.total else None)
    return table


def slo_table(result: SloResult) -> Table:
    table = Table(title=f"SLO: {escape(result.slo.describe())}: "
                        f"{'[green]held' if result.passed else '[red]missed'}")
    for column in ("check", "observed", "bound", ""):
        table.add_column(column)
    for c in result.checks:
        table.add_row(escape(c.name), escape(c.observed), escape(c.bound),
                      "[green]ok" if c.ok else "[red]FAIL")
    return table

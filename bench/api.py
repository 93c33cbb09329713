"""Benchmark of the sample API on this machine (not a test): reference vs naive queries.

    python -m bench.api --levels 1,8 --duration 15

Starts a throwaway Postgres on loopback, migrates and seeds it with the app's `seed` command,
then for each variant runs the app under gunicorn on 127.0.0.1 and drives it with Locust's
`browse` journey (listings with filters, a listing, the user's conversations and a
conversation's messages) at each fixed concurrency level, with no think time (closed loop):

- reference: the app as shipped (select_related/prefetch_related, per-user response cache);
- naive:     the same app with LAB_NAIVE_QUERIES=true (N+1 queries, no caching): the baseline.

Users authenticate with JWTs minted up front, so PBKDF2 password hashing on login does not
dominate a short run. Writes bench/results/api.json and bench/results/api.png and prints
requests/s and p50/p95/p99 per endpoint with the reference/naive ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from labs.loadtest.localapp import LocalApp, LocalStack, SeedSize, app_available
from labs.loadtest.runner import run_local
from labs.loadtest.summary import Summary

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = {"reference": "false", "naive": "true"}
SCENARIO = "browse"
TOTAL = "total"


def _row(stats) -> dict:
    return {"requests": stats.requests, "failures": stats.failures, "rps": round(stats.rps, 2),
            "p50_ms": stats.p50_ms, "p95_ms": stats.p95_ms, "p99_ms": stats.p99_ms}


def _endpoints(summary: Summary) -> dict[str, dict]:
    rows = {e.name: _row(e) for e in summary.endpoints}
    rows[TOTAL] = _row(summary.total)
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def ratios(results: dict) -> dict:
    """Per level and endpoint: reference/naive requests/s and naive/reference latencies."""
    out: dict = {}
    for level, ref in results["reference"].items():
        naive = results["naive"].get(level, {})
        out[level] = {
            name: {"rps_x": _ratio(row["rps"], naive[name]["rps"]),
                   "p50_x": _ratio(naive[name]["p50_ms"], row["p50_ms"]),
                   "p95_x": _ratio(naive[name]["p95_ms"], row["p95_ms"]),
                   "p99_x": _ratio(naive[name]["p99_ms"], row["p99_ms"])}
            for name, row in ref.items() if name in naive}
    return out


def run(levels: Sequence[int] = (1, 8), duration: int = 15, *, out_dir: Path = RESULTS,
        seed: SeedSize | None = None, workers: int = 2, threads: int = 2,
        keep_raw: Path | None = None, console: Console | None = None) -> dict:
    """Run the benchmark; returns (and writes) the results document."""
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    why = app_available()
    if why:
        raise RuntimeError(why)
    seed = seed or SeedSize(users=100, listings=200, bookings=400, conversations=200,
                            messages=20)
    raw_root = Path(keep_raw) if keep_raw else Path(tempfile.mkdtemp(prefix="bench-api-"))
    raw_root.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict]] = {v: {} for v in VARIANTS}
    started = time.monotonic()
    with LocalStack(seed=seed, rabbitmq=False) as stack:
        tokens = raw_root / "tokens.json"
        tokens.write_text(json.dumps(stack.mint_tokens(max(levels) * 4)))
        env = {"LOADTEST_TOKENS": str(tokens), "LOADTEST_WAIT_MIN": "0",
               "LOADTEST_WAIT_MAX": "0",
               "LOADTEST_SEEDED_USERS": str(seed.users)}
        for variant, naive in VARIANTS.items():
            with LocalApp(stack, workers=workers, threads=threads,
                          env={"LAB_NAIVE_QUERIES": naive}) as app:
                # Warm-up: connections, imports and caches of every worker.
                run_local(app.url, 2, 2, 3, SCENARIO, raw_root / f"{variant}-warmup", env=env)
                for level in levels:
                    console.print(f"[bold]{variant}[/]: {level} users x {duration} s")
                    result = run_local(app.url, level, level, duration, SCENARIO,
                                       raw_root / f"{variant}-u{level}", env=env,
                                       title=f"bench: {variant}, {level} users")
                    results[variant][str(level)] = _endpoints(result.summary)
    doc = {
        "command": "python -m bench.api --levels " + ",".join(map(str, levels))
                   + f" --duration {duration}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "setup": {"scenario": SCENARIO, "levels": list(levels), "duration_s": duration,
                  "gunicorn": {"workers": workers, "threads": threads},
                  "seed": seed.__dict__, "think_time_s": 0},
        "results": results,
        "ratios": ratios(results),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "api.json").write_text(json.dumps(doc, indent=2) + "\n")
    chart(doc, out_dir / "api.png")
    print_results(doc, console)
    return doc


def chart(doc: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = doc["results"]
    levels = [str(level) for level in doc["setup"]["levels"]]
    names = [n for n in results["reference"][levels[0]] if n != TOTAL] + [TOTAL]
    fig, axes = plt.subplots(len(levels), 2, figsize=(12, 3.2 * len(levels)), squeeze=False)
    width = 0.38
    for row, level in enumerate(levels):
        for col, (metric, label) in enumerate((("rps", "requests/s"), ("p95_ms", "p95 ms"))):
            ax = axes[row][col]
            for i, (variant, color) in enumerate((("reference", "tab:green"),
                                                  ("naive", "tab:red"))):
                values = [results[variant][level].get(n, {}).get(metric) or 0 for n in names]
                ax.bar([x + (i - 0.5) * width for x in range(len(names))], values, width,
                       label=variant, color=color)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels([n.removeprefix("GET /api/") for n in names], fontsize=7,
                               rotation=20, ha="right")
            ax.set_title(f"{label}, {level} users")
            ax.legend(fontsize=8)
    fig.suptitle("Sample API: reference vs naive (N+1, no cache)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value:,}{unit}"


def print_results(doc: dict, console: Console) -> None:
    results, ratio = doc["results"], doc["ratios"]
    for level in map(str, doc["setup"]["levels"]):
        table = Table(title=f"{level} users, {doc['setup']['duration_s']} s per variant "
                            "(ref = reference, naive = N+1 and no cache)")
        table.add_column("endpoint", no_wrap=True)
        for column in ("req/s ref", "naive", "x", "p95 ref", "naive", "x", "p99 ref", "naive"):
            table.add_column(column, justify="right")
        for name, ref in results["reference"][level].items():
            naive = results["naive"][level].get(name)
            if naive is None:
                continue
            r = ratio[level].get(name, {})
            table.add_row(escape(name.removeprefix("GET ")), _fmt(ref["rps"]), _fmt(naive["rps"]),
                          _fmt(r.get("rps_x")), _fmt(ref["p95_ms"]), _fmt(naive["p95_ms"]),
                          _fmt(r.get("p95_x")), _fmt(ref["p99_ms"]), _fmt(naive["p99_ms"]),
                          style="bold" if name == TOTAL else None)
        console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,8", help="comma-separated user counts (1,8)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per level (15)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads (2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--keep-raw", type=Path, help="keep each run's Locust report here")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not levels or any(not 1 <= n <= 200 for n in levels) or not 1 <= args.duration <= 600:
        parser.error("levels must be 1..200 users and duration 1..600 s")
    run(levels, args.duration, out_dir=args.out, workers=args.workers, threads=args.threads,
        keep_raw=args.keep_raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())

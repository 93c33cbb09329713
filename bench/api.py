"""Benchmark of the sample API on this machine (not a test): reference vs naive, wrk and Locust.

    python -m bench.api                       # wrk per endpoint, then Locust's browse journey
    python -m bench.api --tool wrk --duration 15 --compare bench/results/api-before.json
    python -m bench.api --repeat 3             # every wrk row the median of 3 rounds
    python -m bench.api --profile             # where a request's time goes, per layer

Starts a throwaway Postgres on loopback, migrates and seeds it with the app's `seed` command,
then for each variant runs the app under gunicorn on 127.0.0.1 (the app's own gunicorn.conf.py
sizes it, unless --workers/--threads say otherwise):

- reference: the app as shipped (select_related/prefetch_related, response caches);
- naive:     the same app with LAB_NAIVE_QUERIES=true (N+1 queries, no caching): the baseline.

wrk (2 threads, 16 connections, one JWT) drives each endpoint on its own: /healthz, the cached
listings, the listings with a query string no request repeats (an uncached paginated list), the
user's cached conversations, a conversation's messages (paginated, never cached), and the
browse journey's mix of requests. Locust then runs its `browse` journey (closed loop, no think
time) at each level. Locust is Python: on the same 2 cores it takes CPU from the server and
reports less than wrk; both are printed, with reference/naive and wrk/Locust ratios.

JWTs are minted up front, so PBKDF2 password hashing stays out of the numbers. Writes
bench/results/<name>.json and .png (--save-as, default `api`); --compare FILE adds a
before/after table against an earlier run's JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import wrk
from labs.loadtest.localapp import (
    APP_DIR,
    APP_PYTHON,
    LocalApp,
    LocalStack,
    SeedSize,
    app_available,
)
from labs.loadtest.runner import run_local
from labs.loadtest.summary import Summary

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = {"reference": "false", "naive": "true"}
SCENARIO = "browse"
TOTAL = "total"
SEED = SeedSize(users=100, listings=200, bookings=400, conversations=200, messages=20)
CITIES = ["Addis", "Bahir", "Gondar", "Hawassa", "Lalibela", "Mekelle", "Adama"]

# wrk targets, by name (the table's rows).
HEALTHZ = "GET /healthz"
LISTINGS = "GET /api/listings/ (cached)"
LISTINGS_UNCACHED = "GET /api/listings/?page=N (uncached)"
CONVERSATIONS = "GET /api/conversations/ (cached per user)"
MESSAGES = "GET /api/conversations/[id]/messages/ (uncached)"
BROWSE = "browse mix (Locust's journey)"
LIST_ENDPOINTS = (LISTINGS, LISTINGS_UNCACHED, CONVERSATIONS, MESSAGES)

# The targets on this machine (reported, never asserted in a test).
TARGETS = ((HEALTHZ, "rps", ">=", 3000), (LISTINGS, "rps", ">=", 2000),
           (LISTINGS_UNCACHED, "rps", ">=", 500), (LISTINGS_UNCACHED, "p99_ms", "<", 100),
           (MESSAGES, "rps", ">=", 500), (MESSAGES, "p99_ms", "<", 100))
NAIVE_SLOWER_X = 3.0

# Who the benchmark is: guests with their tokens and conversations, and listings to open.
FIXTURE_CODE = """
import json
from django.db.models import Count
from accounts.models import User
from chats.models import Conversation
from listings.models import Listing
from rest_framework_simplejwt.tokens import RefreshToken
guests = (User.objects.filter(email__endswith='@seed.prodev.dev', role='guest')
          .annotate(n=Count('conversations')).filter(n__gt=0).order_by('-n', 'email')[:COUNT])
users = [{'email': u.email, 'token': str(RefreshToken.for_user(u).access_token),
          'conversations': [str(c) for c in Conversation.objects.filter(participants=u)
                            .values_list('conversation_id', flat=True)]} for u in guests]
listings = [str(i) for i in Listing.objects.values_list('listing_id', flat=True)[:100]]
print(json.dumps({'users': users, 'listings': listings}))
"""


def bench_fixture(stack: LocalStack, users: int) -> dict:
    """Tokens and ids for the wrk targets: users[0] has the most conversations."""
    out = stack.manage("shell", "-c", FIXTURE_CODE.replace("COUNT", str(int(users))))
    return json.loads(out.strip().splitlines()[-1])


def browse_mix(fixture: dict, size: int = 400, seed: int = 7) -> tuple[list[str], list[str]]:
    """Requests and tokens in the proportions of Locust's BrowseUser (4:2:2 tasks)."""
    rng = random.Random(seed)
    paths: list[str] = []
    tokens: list[str] = []
    while len(paths) < size:
        user = rng.choice(fixture["users"])
        task = rng.choices(("listings", "detail", "conversation"), weights=(4, 2, 2))[0]
        if task == "listings":
            query = f"location={rng.choice(CITIES)}"
            if rng.random() < 0.5:
                query += f"&max_price={rng.choice([1500, 2500, 4000])}"
            if rng.random() < 0.3:
                query += "&ordering=price_per_night"
            steps = [f"/api/listings/?{query}"]
        elif task == "detail":
            steps = [f"/api/listings/{rng.choice(fixture['listings'])}/"]
        else:
            steps = ["/api/conversations/",
                     f"/api/conversations/{rng.choice(user['conversations'])}/messages/"]
        paths += steps
        tokens += [user["token"]] * len(steps)
    return paths, tokens


def wrk_targets(fixture: dict) -> list[wrk.Target]:
    me = fixture["users"][0]
    token = (me["token"],)
    pages = tuple(f"/api/listings/?page={n}" for n in range(1, 11))
    mix_paths, mix_tokens = browse_mix(fixture)
    return [
        wrk.Target(HEALTHZ, ("/healthz",), token),
        wrk.Target(LISTINGS, ("/api/listings/",), token),
        wrk.Target(LISTINGS_UNCACHED, pages, token, unique=True),
        wrk.Target(CONVERSATIONS, ("/api/conversations/",), token),
        wrk.Target(MESSAGES, (f"/api/conversations/{me['conversations'][0]}/messages/",), token),
        wrk.Target(BROWSE, tuple(mix_paths), tuple(mix_tokens)),
    ]


# --- Locust ---------------------------------------------------------------------------------
def _row(stats) -> dict:
    return {"requests": stats.requests, "failures": stats.failures, "rps": round(stats.rps, 2),
            "p50_ms": stats.p50_ms, "p95_ms": stats.p95_ms, "p99_ms": stats.p99_ms}


def _endpoints(summary: Summary) -> dict[str, dict]:
    rows = {e.name: _row(e) for e in summary.endpoints}
    rows[TOTAL] = _row(summary.total)
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def ratios(doc: dict) -> dict:
    """reference/naive requests/s and naive/reference p99 per wrk target and Locust row, and
    wrk/Locust requests/s on the browse journey (how much Locust understates the server)."""
    out: dict = {"wrk": {}, "locust": {}, "wrk_over_locust": {}}
    ref, naive = doc["wrk"].get("reference", {}), doc["wrk"].get("naive", {})
    for name, row in ref.items():
        if name in naive:
            out["wrk"][name] = {"rps_x": _ratio(row["rps"], naive[name]["rps"]),
                                "p99_x": _ratio(naive[name]["p99_ms"], row["p99_ms"])}
    for level, rows in doc["locust"].get("reference", {}).items():
        other = doc["locust"].get("naive", {}).get(level, {})
        out["locust"][level] = {
            name: {"rps_x": _ratio(row["rps"], other[name]["rps"]),
                   "p99_x": _ratio(other[name]["p99_ms"], row["p99_ms"])}
            for name, row in rows.items() if name in other}
    for variant, levels in doc["locust"].items():
        mix = doc["wrk"].get(variant, {}).get(BROWSE)
        if mix and levels:
            top = max(levels, key=int)
            out["wrk_over_locust"][variant] = {
                "locust_users": int(top), "wrk_rps": mix["rps"],
                "locust_rps": levels[top][TOTAL]["rps"],
                "x": _ratio(mix["rps"], levels[top][TOTAL]["rps"])}
    return out


def targets(doc: dict) -> list[dict]:
    """Each of the issue's targets with the measured value and whether it is met."""
    rows = []
    ref = doc["wrk"].get("reference", {})
    for name, metric, op, goal in TARGETS:
        value = ref.get(name, {}).get(metric)
        met = value is not None and (value >= goal if op == ">=" else value < goal)
        rows.append({"what": f"{name} {metric} {op} {goal:,}", "value": value, "met": met})
    for name in LIST_ENDPOINTS:
        x = doc["ratios"]["wrk"].get(name, {}).get("rps_x")
        rows.append({"what": f"{name}: reference >= {NAIVE_SLOWER_X:.0f}x naive",
                     "value": x, "met": x is not None and x >= NAIVE_SLOWER_X})
    return rows


def run(levels: Sequence[int] = (1, 16), duration: int = 15, *, out_dir: Path = RESULTS,
        save_as: str = "api", tool: str = "both", seed: SeedSize = SEED,
        workers: int | None = None, threads: int | None = None, connections: int = 16,
        wrk_threads: int = 2, keep_raw: Path | None = None, baseline: Path | None = None,
        app_dir: Path = APP_DIR, repeat: int = 1, console: Console | None = None) -> dict:
    """Run the benchmark; returns (and writes) the results document.

    `app_dir`: another tree of the app to serve (e.g. an earlier commit's, exported with
    `git archive`), run with this app's virtualenv: a before/after on the same machine.
    `repeat`: wrk goes through every endpoint that many times, round after round, and each
    row is the run with the median requests/s (all runs' figures kept under `runs`): on a
    shared machine one slow minute then moves no figure.
    """
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    why = app_available(rabbitmq=False)
    if why:
        raise RuntimeError(why)
    if tool in ("both", "wrk") and wrk.wrk_path() is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk "
                           "(scripts/install-test-deps.sh installs it)")
    scratch = None if keep_raw else tempfile.TemporaryDirectory(prefix="bench-api-")
    raw_root = Path(keep_raw) if keep_raw else Path(scratch.name)  # type: ignore[union-attr]
    raw_root.mkdir(parents=True, exist_ok=True)
    doc: dict = {"wrk": {}, "locust": {}}
    started = time.monotonic()
    with LocalStack(seed=seed, rabbitmq=False) as stack:
        fixture = bench_fixture(stack, users=max(max(levels), 16))
        tokens = raw_root / "tokens.json"
        tokens.write_text(json.dumps([u["token"] for u in fixture["users"]]))
        env = {"LOADTEST_TOKENS": str(tokens), "LOADTEST_WAIT_MIN": "0",
               "LOADTEST_WAIT_MAX": "0", "LOADTEST_SEEDED_USERS": str(seed.users)}
        targets_ = wrk_targets(fixture)
        for variant, naive in VARIANTS.items():
            with LocalApp(stack, workers=workers, threads=threads, app_dir=app_dir,
                          env={"LAB_NAIVE_QUERIES": naive}) as app:
                roots = {"app": app.pid, "postgres": stack.postgres_pid}
                served = gunicorn_shape(app)
                # Warm-up: connections, imports and caches of every worker.
                wrk.run(app.url, targets_[-1], duration=3, connections=connections,
                        threads=wrk_threads)
                if tool in ("both", "wrk"):
                    runs: dict[str, list[dict]] = {t.name: [] for t in targets_}
                    for round_ in range(1, repeat + 1):
                        for target in targets_:
                            result = wrk.run(app.url, target, duration=duration,
                                             connections=connections, threads=wrk_threads,
                                             roots=roots)
                            runs[target.name].append(result.as_dict())
                            console.print(
                                f"[bold]{variant}[/] wrk {escape(target.name)}"
                                f"{f' (round {round_}/{repeat})' if repeat > 1 else ''}: "
                                f"{result.rps:,.0f} req/s, p99 {result.p99_ms} ms "
                                f"(load {result.load_1m}, other processes "
                                f"{result.other_cores} cores)")
                    doc["wrk"][variant] = {name: median_run(found)
                                           for name, found in runs.items()}
                if tool in ("both", "locust"):
                    doc["locust"][variant] = {}
                    for level in levels:
                        meter = wrk.LoadMeter(roots)
                        with meter:
                            result = run_local(app.url, level, level, duration, SCENARIO,
                                               raw_root / f"{variant}-u{level}", env=env,
                                               title=f"bench: {variant}, {level} users")
                        rows = _endpoints(result.summary)
                        rows[TOTAL] |= {"load_1m": round(meter.load_1m, 2),
                                        "other_cores": meter.other_cores}
                        doc["locust"][variant][str(level)] = rows
                        console.print(f"[bold]{variant}[/] Locust {level} users: "
                                      f"{rows[TOTAL]['rps']:,.0f} req/s")
    if scratch is not None:  # the tokens and Locust's reports, unless --keep-raw
        scratch.cleanup()
    doc = {
        "command": command_line(levels, duration, tool, workers, threads, repeat),
        "app_dir": str(app_dir),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "setup": {"wrk": {"threads": wrk_threads, "connections": connections,
                          "duration_s": duration, "tokens": 1},
                  "locust": {"scenario": SCENARIO, "levels": list(levels),
                             "duration_s": duration, "think_time_s": 0},
                  "gunicorn": served, "seed": seed.__dict__},
        **doc,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    doc["ratios"] = ratios(doc)
    doc["targets"] = targets(doc) if doc["wrk"] else []
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{save_as}.json").write_text(json.dumps(doc, indent=2) + "\n")
    chart(doc, out_dir / f"{save_as}.png")
    print_results(doc, console)
    if baseline:
        print_comparison(json.loads(Path(baseline).read_text()), doc, console)
    return doc


MAX_REPEAT = 9


def repeat_problem(repeat: int) -> str | None:
    """Why `repeat` wrk rounds cannot run, or None (the CLI and the invoke task ask this)."""
    return None if 1 <= repeat <= MAX_REPEAT else f"repeat must be 1..{MAX_REPEAT}"


def median_run(runs: list[dict]) -> dict:
    """The run with the median requests/s (the lower middle of an even count), with every
    run's requests/s and p99 beside it."""
    ranked = sorted(runs, key=lambda run: run["rps"])
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    if len(runs) > 1:
        chosen["runs"] = [{"rps": run["rps"], "p99_ms": run["p99_ms"]} for run in runs]
    return chosen


def command_line(levels: Sequence[int], duration: int, tool: str, workers: int | None,
                 threads: int | None, repeat: int = 1) -> str:
    parts = ["python -m bench.api", f"--tool {tool}", f"--duration {duration}"]
    if repeat > 1:
        parts.append(f"--repeat {repeat}")
    if tool != "wrk":
        parts.append("--levels " + ",".join(map(str, levels)))
    if workers:
        parts.append(f"--workers {workers}")
    if threads:
        parts.append(f"--threads {threads}")
    return " ".join(parts)


def gunicorn_shape(app: LocalApp) -> dict:
    """How gunicorn actually serves (the app's config may size it): worker class, counts."""
    shape: dict = {"workers": app.workers, "threads": app.threads}
    with_conf = app.log.read_text(errors="replace") if app.log.exists() else ""
    for line in with_conf.splitlines():
        if line.startswith("gunicorn-config "):  # printed by labs/app/gunicorn.conf.py
            shape = json.loads(line.split(" ", 1)[1])
    return shape


# --- output ---------------------------------------------------------------------------------
def chart(doc: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if doc["wrk"]:
        names = list(doc["wrk"]["reference"])
        panels += [("wrk", names, lambda v, n, m: doc["wrk"].get(v, {}).get(n, {}).get(m),
                    (("rps", "requests/s (wrk)"), ("p99_ms", "p99 ms (wrk)")))]
    if doc["locust"]:
        top = str(max(doc["setup"]["locust"]["levels"]))
        names = list(doc["locust"]["reference"][top])
        panels += [("locust", names,
                    lambda v, n, m: doc["locust"].get(v, {}).get(top, {}).get(n, {}).get(m),
                    (("rps", f"requests/s (Locust, {top} users)"),
                     ("p99_ms", f"p99 ms (Locust, {top} users)")))]
    fig, axes = plt.subplots(len(panels), 2, figsize=(13, 3.8 * len(panels)), squeeze=False)
    width = 0.38
    for row, (_, names, get, metrics) in enumerate(panels):
        for col, (metric, label) in enumerate(metrics):
            ax = axes[row][col]
            for i, (variant, color) in enumerate((("reference", "tab:green"),
                                                  ("naive", "tab:red"))):
                values = [get(variant, n, metric) or 0 for n in names]
                ax.bar([x + (i - 0.5) * width for x in range(len(names))], values, width,
                       label=variant, color=color)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels([n.removeprefix("GET ") for n in names], fontsize=7,
                               rotation=18, ha="right")
            ax.set_yscale("log")
            ax.set_title(label)
            ax.legend(fontsize=8)
    fig.suptitle("Sample API: reference vs naive (N+1, no cache)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def print_results(doc: dict, console: Console) -> None:
    setup = doc["setup"]
    if doc["wrk"]:
        w = setup["wrk"]
        table = Table(title=f"wrk: {w['threads']} threads, {w['connections']} connections, "
                            f"{w['duration_s']} s per endpoint; gunicorn {setup['gunicorn']}")
        for column in ("endpoint", "req/s ref", "p50/p99 ms ref", "app CPU ms/req ref",
                       "req/s naive", "p50/p99 ms naive", "ref ÷ naive", "load 1m",
                       "other cores"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for name, ref in doc["wrk"]["reference"].items():
            naive = doc["wrk"].get("naive", {}).get(name, {})
            table.add_row(escape(name), _fmt(ref["rps"]),
                          f"{_fmt(ref['p50_ms'], 1)} / {_fmt(ref['p99_ms'], 1)}",
                          _fmt(ref.get("cpu_ms_per_request", {}).get("app"), 2),
                          _fmt(naive.get("rps")),
                          f"{_fmt(naive.get('p50_ms'), 1)} / {_fmt(naive.get('p99_ms'), 1)}",
                          _fmt(doc["ratios"]["wrk"].get(name, {}).get("rps_x"), 1) + "x",
                          _fmt(ref["load_1m"], 1), _fmt(ref["other_cores"], 2))
        console.print(table)
    for level in map(str, setup["locust"]["levels"] if doc["locust"] else ()):
        table = Table(title=f"Locust: {level} users, {setup['locust']['duration_s']} s per "
                            "variant (ref = reference, naive = N+1 and no cache)")
        for column in ("endpoint", "req/s ref", "naive", "x", "p95 ref", "naive", "p99 ref",
                       "naive"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for name, ref in doc["locust"]["reference"][level].items():
            naive = doc["locust"].get("naive", {}).get(level, {}).get(name)
            if naive is None:
                continue
            r = doc["ratios"]["locust"][level].get(name, {})
            table.add_row(escape(name.removeprefix("GET ")), _fmt(ref["rps"], 1),
                          _fmt(naive["rps"], 1), _fmt(r.get("rps_x"), 1),
                          _fmt(ref["p95_ms"]), _fmt(naive["p95_ms"]), _fmt(ref["p99_ms"]),
                          _fmt(naive["p99_ms"]), style="bold" if name == TOTAL else None)
        console.print(table)
    for variant, row in doc["ratios"]["wrk_over_locust"].items():
        console.print(f"browse journey, {variant}: wrk {row['wrk_rps']:,.0f} req/s vs Locust "
                      f"({row['locust_users']} users) {row['locust_rps']:,.0f} req/s: "
                      f"wrk/Locust = {_fmt(row['x'], 1)}x")
    for row in doc["targets"]:
        mark = "[green]met[/]" if row["met"] else "[red]missed[/]"
        console.print(f"target {escape(row['what'])}: {_fmt(row['value'], 1)} {mark}")


def print_comparison(before: dict, after: dict, console: Console) -> None:
    table = Table(title=f"before ({before['when']}) / after ({after['when']}), wrk, reference "
                        "(and naive req/s)")
    for column in ("endpoint", "before req/s", "p50/p99", "after req/s", "p50/p99",
                   "after ÷ before", "app CPU ms/req before", "after", "naive before",
                   "naive after"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for name, new in after["wrk"].get("reference", {}).items():
        old = before["wrk"].get("reference", {}).get(name, {})

        def cpu(row: dict) -> float | None:
            return (row.get("cpu_ms_per_request") or {}).get("app")

        table.add_row(escape(name), _fmt(old.get("rps")),
                      f"{_fmt(old.get('p50_ms'), 1)} / {_fmt(old.get('p99_ms'), 1)}",
                      _fmt(new["rps"]), f"{_fmt(new['p50_ms'], 1)} / {_fmt(new['p99_ms'], 1)}",
                      _fmt(_ratio(new["rps"], old.get("rps")), 1) + "x",
                      _fmt(cpu(old), 2), _fmt(cpu(new), 2),
                      _fmt(before["wrk"].get("naive", {}).get(name, {}).get("rps")),
                      _fmt(after["wrk"].get("naive", {}).get(name, {}).get("rps")))
    console.print(table)


# --- the profile ---------------------------------------------------------------------------
def profile(*, requests: int = 400, out_dir: Path = RESULTS, save_as: str = "api-profile",
            app_dir: Path = APP_DIR, console: Console | None = None) -> dict:
    """Where one request's time goes, per layer: the app's `manage.py profile_requests`
    (labs/app/core/management/commands/profile_requests.py) against the benchmark's data."""
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    why = app_available(rabbitmq=False)
    if why:
        raise RuntimeError(why)
    with LocalStack(seed=SEED, rabbitmq=False) as stack, \
            tempfile.TemporaryDirectory(prefix="bench-prometheus-") as metrics, \
            tempfile.TemporaryFile("w+") as log:
        # Metrics as gunicorn runs them (one process of several); the request logs go to a
        # file as a container's go to its log, not to a terminal.
        env = {**os.environ, **stack.env(), "PROMETHEUS_MULTIPROC_DIR": metrics}
        proc = subprocess.run([str(APP_PYTHON), "manage.py", "profile_requests", "--json",
                               "--requests", str(requests)], cwd=app_dir, env=env,
                              stdout=subprocess.PIPE, stderr=log, text=True, timeout=900,
                              check=False)
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"the profile failed:\n{log.read()[-4000:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["load_1m"] = round(os.getloadavg()[0], 2)
    doc["app_dir"] = str(app_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{save_as}.json").write_text(json.dumps(doc, indent=2) + "\n")
    print_profile(doc, console)
    return doc


def print_profile(doc: dict, console: Console) -> None:
    for config in doc["configs"]:
        table = Table(title=f"CPU µs per request, in process (no HTTP server), {config['name']}: "
                            f"{escape(config['middleware'])}")
        endpoints = list(config["endpoints"])
        table.add_column("layer")
        for name in endpoints:
            table.add_column(escape(name), justify="right")
        layers: list[str] = []
        for name in endpoints:
            for layer in config["endpoints"][name]["layers_us"]:
                if layer not in layers:
                    layers.append(layer)
        for layer in layers:
            table.add_row(escape(layer), *(
                _fmt(config["endpoints"][n]["layers_us"].get(layer)) for n in endpoints))
        table.add_row("[bold]total CPU[/]", *(
            f"[bold]{_fmt(config['endpoints'][n]['total_us'])}[/]" for n in endpoints))
        table.add_row("waiting for Postgres", *(
            _fmt(config["endpoints"][n].get("sql_wait_us")) for n in endpoints))
        table.add_row("CPU (no timers)", *(
            _fmt(config["endpoints"][n]["cpu_us"]) for n in endpoints))
        table.add_row("SQL queries", *(
            _fmt(config["endpoints"][n]["queries"], 1) for n in endpoints))
        console.print(table)
    console.print(f"load average (1 min) at the end: {doc['load_1m']}; metrics multiprocess: "
                  f"{doc['metrics_multiprocess']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", choices=("both", "wrk", "locust"), default="both",
                        help="load generator(s) to run (both)")
    parser.add_argument("--levels", default="1,16", help="Locust: comma-separated users (1,16)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per run (15)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="wrk: rounds over the endpoints; each row is the median run (1)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config)")
    parser.add_argument("--threads", type=int, help="gunicorn threads (default: its config)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--save-as", default="api", help="file name of the JSON and PNG (api)")
    parser.add_argument("--compare", type=Path, help="an earlier run's JSON: print before/after")
    parser.add_argument("--keep-raw", type=Path, help="keep each run's Locust report here")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR,
                        help="serve another tree of the app (e.g. `git archive` of an earlier "
                             "commit), with labs/app's virtualenv")
    parser.add_argument("--profile", action="store_true",
                        help="profile requests in process instead (manage.py profile_requests)")
    args = parser.parse_args(argv)
    if args.profile:
        profile(out_dir=args.out, save_as=f"{args.save_as}-profile", app_dir=args.app_dir)
        return 0
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not levels or any(not 1 <= n <= 200 for n in levels) or not 1 <= args.duration <= 600:
        parser.error("levels must be 1..200 users and duration 1..600 s")
    if not 1 <= args.connections <= 256:
        parser.error("connections must be 1..256")
    if why := repeat_problem(args.repeat):
        parser.error(why)
    run(levels, args.duration, out_dir=args.out, save_as=args.save_as, tool=args.tool,
        workers=args.workers, threads=args.threads, connections=args.connections,
        keep_raw=args.keep_raw, baseline=args.compare, app_dir=args.app_dir,
        repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Instructions per request of the sample API, counted by callgrind (not a test).

    python -m bench.instructions                                # the app as it is
    python -m bench.instructions --baseline-dir /tmp/old/labs/app   # and an earlier tree

On a shared 2-core machine requests/s and even CPU time per request drift by a quarter from
one quarter-hour to the next (other tenants, frequency, a test suite beside it). valgrind's
callgrind counts the instructions a process executes, the same for the same code and input
whatever else runs, so before/after of the app's own cost per request is exact enough to
trust on a busy machine. It counts the app's process only (Python, Django, psycopg's client
side), not Postgres nor an HTTP server: requests go through the app's WSGI handler in
process, as `manage.py profile_requests` does.

For each tree and endpoint: one run of `--few` requests and one of `--many` (after the same
warm-up), each under callgrind; the difference over the extra requests is the cost of one
request, start-up and warm-up cancelled out. Writes bench/results/<save-as>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.api import RESULTS, SEED
from labs.loadtest.localapp import APP_DIR, APP_PYTHON, LocalStack, app_available

ENDPOINTS = {
    "GET /healthz": "/healthz",
    "GET /api/listings/ (cached)": "/api/listings/",
    "GET /api/listings/?page=5 (uncached)": "/api/listings/?page=5&nocache={n}",
    "GET /api/conversations/[id]/messages/": "/api/conversations/{conversation}/messages/",
}
WARMUP = 20

# Runs in the app's virtualenv and directory: N requests through Django's WSGI handler as
# the benchmark's guest (the seeded guest with the most conversations).
DRIVER = textwrap.dedent("""
    import gc, io, os, sys
    import django
    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db.models import Count
    from rest_framework_simplejwt.tokens import AccessToken
    from accounts.models import User
    from chats.models import Conversation
    guest = (User.objects.filter(email__endswith="@seed.prodev.dev", role="guest")
             .annotate(n=Count("conversations")).order_by("-n", "email").first())
    token = str(AccessToken.for_user(guest))
    conversation = Conversation.objects.filter(participants=guest).first().pk
    handler = WSGIHandler()
    path, count = sys.argv[1], int(sys.argv[2])

    def one(n):
        full = path.format(n=n, conversation=conversation)
        route, _, query = full.partition("?")
        status = []
        body = handler({"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query,
                        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
                        "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
                        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
                        "HTTP_AUTHORIZATION": "Bearer " + token},
                       lambda s, headers, exc=None: status.append(s))
        b"".join(body)
        body.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"{full}: {status[0]}")

    for n in range(WARMUP):
        one(n)
    # As a gunicorn worker runs (gunicorn.conf.py freezes the preloaded app before forking):
    # a full collection then walks only new objects, and where one falls stays out of the
    # difference between the two runs.
    gc.collect()
    gc.freeze()
    for n in range(count):
        one(1000 + n)
""").replace("WARMUP", str(WARMUP))


def instructions(app_dir: Path, path: str, count: int, env: dict[str, str]) -> int:
    """Instructions callgrind counts for the driver doing `count` requests after warm-up."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         str(APP_PYTHON), "-c", DRIVER, path, str(count)],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=1800, check=False)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"callgrind run failed in {app_dir} for {path}:\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return int(found.group(1))


def per_request(app_dir: Path, path: str, few: int, many: int, env: dict[str, str]) -> float:
    with ThreadPoolExecutor(max_workers=2) as pool:  # the two runs on the two cores
        small, large = pool.map(lambda n: instructions(app_dir, path, n, env), (few, many))
    return (large - small) / (many - few)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-dir", type=Path,
                        help="an earlier tree of the app to count beside this one "
                             "(e.g. a `git worktree` of an older commit's labs/app)")
    parser.add_argument("--few", type=int, default=10, help="requests of the short run (10)")
    parser.add_argument("--many", type=int, default=30, help="requests of the long run (30)")
    parser.add_argument("--save-as", default="api-instructions", help="JSON file name")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    if args.many <= args.few:
        parser.error("--many must be more than --few")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    why = app_available(rabbitmq=False)
    if why:
        print(why, file=sys.stderr)
        return 2
    trees = {"now": APP_DIR}
    if args.baseline_dir:
        if not (args.baseline_dir / "manage.py").exists():
            print(f"--baseline-dir {args.baseline_dir}: no manage.py there", file=sys.stderr)
            return 2
        trees = {"baseline": args.baseline_dir.resolve(), **trees}
    console = Console()
    counts: dict[str, dict[str, float]] = {}
    with LocalStack(seed=SEED, rabbitmq=False) as stack:
        for name, tree in trees.items():
            # One database, migrated and seeded by this tree: an earlier tree reads the
            # columns it knows.
            env = {**os.environ, **stack.env(), "DJANGO_SETTINGS_MODULE": "config.settings"}
            counts[name] = {}
            for label, path in ENDPOINTS.items():
                with console.status(f"{name}: {label} under callgrind"):
                    counts[name][label] = per_request(tree, path, args.few, args.many, env)
    table = Table(title="instructions per request (millions), in process, callgrind")
    table.add_column("endpoint")
    for name in trees:
        table.add_column(name, justify="right")
    if "baseline" in trees:
        table.add_column("now ÷ baseline", justify="right")
    for label in ENDPOINTS:
        row = [label, *(f"{counts[name][label] / 1e6:.2f}" for name in trees)]
        if "baseline" in trees:
            row.append(f"{counts['now'][label] / counts['baseline'][label]:.2f}")
        table.add_row(*row)
    console.print(table)
    doc = {"command": "python -m bench.instructions " + " ".join(argv or sys.argv[1:]),
           "when": datetime.now(UTC).isoformat(timespec="seconds"),
           "trees": {name: str(tree) for name, tree in trees.items()},
           "requests": {"warmup": WARMUP, "few": args.few, "many": args.many},
           "instructions_per_request": counts}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.save_as}.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

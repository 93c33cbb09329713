"""Lesson 8 checks: a cached hot read, and a load test of the learner's stack that met the SLO.

The SLO verdict is worked out again from Locust's own CSV of the learner's newest run
(reports/<learner>/<timestamp>/), not read from the report's summary, so a report edited by
hand does not pass.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.http import api, query_count, require_max_age
from labs.loadtest.results import CSV_PREFIX
from labs.loadtest.summary import check_slo, parse, slo_for_lesson

LESSON = 8
LIST = "/api/listings/"
CACHE_SECONDS = 15 * 60
# With W processes serving the API, W + 1 requests reach at least one process twice.
REPEATS = 10


@register(LESSON, "cache.listings", "The listings list is served from the cache",
          f"decorate ListingViewSet.list with cache_page({CACHE_SECONDS}) (vary on "
          "Authorization); a repeated GET then runs no SQL (X-DB-Query-Count: 0)")
def cached_listings(ctx: CheckContext) -> str:
    client = api(ctx)
    # A query string of our own: a cache entry no one else has warmed or will reuse.
    path = f"{LIST}?ordering=price_per_night&labcheck={uuid.uuid4().hex[:8]}"
    replies = [client.get(path) for _ in range(REPEATS)]
    for reply in replies:
        reply.expect(200, doing=f"GET {LIST}")
    counts = [query_count(r) for r in replies]
    if 0 not in counts[1:]:
        raise CheckFailed(f"{REPEATS} identical GETs ran {counts} SQL queries: none came "
                          "from the cache")
    control = require_max_age(replies[0], CACHE_SECONDS)
    return f"queries per request: {counts}; Cache-Control: {control}"


def newest_report(root: Path) -> Path:
    runs = sorted(p.parent for p in root.glob(f"*/{CSV_PREFIX}_stats.csv"))
    if not runs:
        raise CheckFailed(f"no load test report under {root}/: run `invoke loadtest` "
                          "(in-cluster, or --target through a port-forward)")
    return runs[-1]  # directory names are UTC timestamps


@register(LESSON, "loadtest.slo", "Your latest load test met the lesson's SLO",
          f"run `invoke loadtest --users {slo_for_lesson(LESSON).users}` against your stack; "
          "cache hot reads and let the HPA add replicas until p95 and errors meet the SLO")
def load_test_slo(ctx: CheckContext) -> str:
    run = newest_report(ctx.need("reports_dir", "a reports directory (reports/<learner>)"))
    slo = slo_for_lesson(LESSON)
    summary = parse(run / CSV_PREFIX)
    if summary.total.requests == 0:
        raise CheckFailed(f"{run.name}: the run made no requests")
    verdict = check_slo(summary, slo)
    shown = "; ".join(f"{c.name} {c.observed} ({c.bound})" for c in verdict.checks)
    if not verdict.passed:
        raise CheckFailed(f"{run.name}: {shown}")
    return f"{run.name}: {shown}"

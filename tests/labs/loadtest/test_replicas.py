"""The replica sampler: samples in a background thread, keeps changes, survives API errors."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from infra.replicas import ReplicaCounts
from labs.loadtest.charts import replicas_chart
from labs.loadtest.replicas import ReplicaHistory, ReplicaSampler

pytestmark = pytest.mark.unit


def counts(ready: int, desired: int = 3, hpa: bool = False) -> ReplicaCounts:
    if not hpa:
        return ReplicaCounts("api", desired, ready)
    return ReplicaCounts("api", desired, ready, "api", 2, 8, ready, desired)


def test_sampler_runs_in_the_background_until_stopped() -> None:
    values = itertools.chain([counts(1), counts(1), counts(2)], itertools.repeat(counts(3)))
    threads: set[str] = set()

    def read() -> ReplicaCounts:
        threads.add(threading.current_thread().name)
        return next(values)

    clock = itertools.count(1000)
    sampler = ReplicaSampler(read, interval_s=0.01, clock=lambda: float(next(clock)))
    with sampler:
        deadline = time.monotonic() + 10
        while len(sampler.samples) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    history = sampler.stop()
    assert "replica-sampler" in threads
    assert len(history.samples) >= 6  # the loop's and the final one
    assert [s.counts.ready for s in history.changes()] == [1, 2, 3]
    assert history.ready[0] == (1000.0, 1)
    assert "ready 1..3, 2 change(s)" in history.describe() and "no HPA" in history.describe()


def test_api_errors_are_kept_and_never_raised() -> None:
    def read() -> ReplicaCounts:
        raise ConnectionError("connection refused")

    sampler = ReplicaSampler(read, interval_s=0.01)
    sampler.start()
    history = sampler.stop()
    assert history.samples == ()
    assert "connection refused" in history.note
    assert history.describe().startswith("not sampled: ConnectionError")


def test_with_an_hpa_desired_is_the_hpas(tmp_path: Path) -> None:
    from labs.loadtest.replicas import ReplicaSample

    history = ReplicaHistory("api", (ReplicaSample(1.0, counts(2, 2, hpa=True)),
                                     ReplicaSample(4.0, counts(2, 5, hpa=True)),
                                     ReplicaSample(9.0, counts(5, 5, hpa=True))))
    assert history.hpa == "api"
    assert history.desired == [(1.0, 2), (4.0, 5), (9.0, 5)]
    png = replicas_chart(history.ready, tmp_path / "r.png", desired=history.desired)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ReplicaHistory(note="no cluster reachable").describe() == (
        "not sampled: no cluster reachable")


def test_a_local_run_samples_replicas_while_locust_runs(tmp_path: Path) -> None:
    """run_local with a sampler: a stand-in `python -m locust` writes the CSV files."""
    import sys

    from labs.loadtest.runner import run_local
    from tests.labs.loadtest.test_summary import write_run

    made = tmp_path / "made"
    made.mkdir()
    write_run(made)
    fake = tmp_path / "fake-python"
    fake.write_text(f"#!{sys.executable}\n" + """import shutil, sys, time
from pathlib import Path
if sys.argv[1] == "-c":
    sys.exit(0)
prefix = Path(sys.argv[sys.argv.index("--csv") + 1])
time.sleep(0.5)  # the sampler runs meanwhile
for f in Path(MADE).glob("*.csv"):
    shutil.copy(f, prefix.parent / f.name)
""".replace("MADE", repr(str(made))))
    fake.chmod(0o755)
    ready = itertools.chain([counts(1), counts(2)], itertools.repeat(counts(3)))
    sampler = ReplicaSampler(lambda: next(ready), interval_s=0.05)
    result = run_local("http://127.0.0.1:9", 4, 2, 5, "mixed", tmp_path / "out",
                       replicas=sampler, python=str(fake))
    assert result.replicas is not None and len(result.replicas.samples) >= 3
    assert [s.counts.ready for s in result.replicas.changes()] == [1, 2, 3]
    assert "replicas" in result.charts
    assert "Replica changes during the test" in result.html.read_text()

    skipped = run_local("http://127.0.0.1:9", 4, 2, 5, "mixed", tmp_path / "out2",
                        replicas=ReplicaHistory(note="no cluster reachable (no cluster)"),
                        python=str(fake))
    assert "replicas" not in skipped.charts
    assert "not sampled: no cluster reachable" in skipped.html.read_text()

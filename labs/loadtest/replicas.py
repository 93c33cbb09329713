"""Replica counts over time while a load test runs: a background sampler and what it found.

The sampler calls a `read` function (normally infra.replicas.replica_counts on the API
Deployment) every few seconds in a daemon thread, so an HPA scaling the API during the run
shows up in the report's chart and its "replica changes during the test" table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.replicas import ReplicaCounts

DEFAULT_INTERVAL_S = 3.0


@dataclass(frozen=True)
class ReplicaSample:
    timestamp: float  # unix time
    counts: ReplicaCounts

    @property
    def key(self) -> tuple[int | None, ...]:
        c = self.counts
        return (c.desired, c.ready, c.hpa_current, c.hpa_desired)


@dataclass(frozen=True)
class ReplicaHistory:
    """The samples of one run, or why there are none (`note`)."""

    deployment: str = "api"
    samples: tuple[ReplicaSample, ...] = ()
    note: str = ""

    @property
    def ready(self) -> list[tuple[float, int]]:
        """(unix ts, ready replicas): the charts' ReplicaSamples."""
        return [(s.timestamp, s.counts.ready) for s in self.samples]

    @property
    def desired(self) -> list[tuple[float, int]]:
        """(unix ts, replicas wanted): the HPA's desired count where one exists."""
        return [(s.timestamp, s.counts.hpa_desired if s.counts.hpa_desired is not None
                 else s.counts.desired) for s in self.samples]

    @property
    def hpa(self) -> str | None:
        return next((s.counts.hpa for s in self.samples if s.counts.hpa), None)

    def changes(self) -> list[ReplicaSample]:
        """The first sample and every one whose counts differ from the one before."""
        out: list[ReplicaSample] = []
        for sample in self.samples:
            if not out or sample.key != out[-1].key:
                out.append(sample)
        return out

    def describe(self) -> str:
        """One line for the report's details table."""
        if not self.samples:
            return f"not sampled: {self.note}" if self.note else "not sampled"
        ready = [s.counts.ready for s in self.samples]
        hpa = f", HPA {self.hpa}" if self.hpa else ", no HPA"
        return (f"{len(self.samples)} samples of Deployment {self.deployment}{hpa}: "
                f"ready {min(ready)}..{max(ready)}, {len(self.changes()) - 1} change(s)")


@dataclass
class ReplicaSampler:
    """Samples `read()` every `interval_s` between start() and stop() (also a context manager).

    Read errors are kept (the last one is in `error`) and never stop the load test.
    """

    read: Callable[[], ReplicaCounts]
    deployment: str = "api"
    interval_s: float = DEFAULT_INTERVAL_S
    clock: Callable[[], float] = time.time
    samples: list[ReplicaSample] = field(default_factory=list)
    error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def sample(self) -> None:
        try:
            counts = self.read()
        except Exception as exc:  # any API trouble: keep the load test going
            self.error = f"{type(exc).__name__}: {exc}"[:300]
            return
        self.samples.append(ReplicaSample(self.clock(), counts))

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval_s):
                return

    def start(self) -> ReplicaSampler:
        self._thread = threading.Thread(target=self._loop, name="replica-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> ReplicaHistory:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
            self._thread = None
            self.sample()  # the count the run ended with
        note = "" if self.samples else (self.error or "no sample was taken")
        return ReplicaHistory(self.deployment, tuple(self.samples), note)

    def __enter__(self) -> ReplicaSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

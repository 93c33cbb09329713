"""A progress bar for the long offline builds (the toolchain, the kind kit).

A first run builds for tens of minutes; a silent terminal for that long looks like a hang. The
bar shows what is being built, how far along it is (packages compiled of those needed) and
roughly how long is left: from the cold times measured here at first, then from the pace this
machine shows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from infra.cluster.toolchain import PlannedStep, Toolchain


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class BuildBar:
    """A :class:`infra.cluster.toolchain.Meter` drawn with rich; use as a context manager."""

    def __init__(self, console: Console, what: str) -> None:
        self.console, self.what = console, what
        self.steps: dict[str, PlannedStep] = {}
        self.finished: set[str] = set()
        self.fraction: dict[str, float] = {}
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[left]}"),
            TextColumn("[dim]{task.fields[note]}"), console=console, transient=False)
        self.task = self.progress.add_task(what, total=1.0, left="", note="")

    def __enter__(self) -> BuildBar:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()

    # --- Meter ---------------------------------------------------------------------------
    def plan(self, steps: Sequence[PlannedStep]) -> None:
        self.steps = {s.key: s for s in steps if not s.cached}
        if not self.steps:
            self.progress.update(self.task, completed=1.0, note="all cached")
            return
        total = sum(s.expected_seconds for s in self.steps.values())
        names = ", ".join(self.steps)
        self.console.print(
            f"[bold]First run:[/] building {self.what} from the package registries: {names}. "
            f"This happens once per version (later runs reuse the cache); cold, on a 2-core "
            f"machine, it took about {_minutes(total)}.")
        self.started = time.monotonic()
        self._redraw("")

    def update(self, key: str, fraction: float, note: str) -> None:
        if key in self.steps:
            self.fraction[key] = fraction
            self._redraw(f"{key}: {note}")

    def finish(self, key: str, seconds: float, cached: bool) -> None:
        if key not in self.steps:
            return
        self.finished.add(key)
        self.fraction[key] = 1.0
        self.console.log(f"{key}: {'cached' if cached else f'built in {seconds:.0f} s'}")
        self._redraw("")

    # --- drawing -------------------------------------------------------------------------
    def expected_done(self) -> tuple[float, float]:
        """(expected seconds of work done, expected seconds in all)."""
        total = sum(s.expected_seconds for s in self.steps.values()) or 1.0
        done = sum(s.expected_seconds * self.fraction.get(k, 0.0) for k, s in self.steps.items())
        return done, total

    def seconds_left(self) -> float:
        done, total = self.expected_done()
        elapsed = time.monotonic() - self.started
        # Trust this machine's pace once a tenth is done; before that, the measured cold times.
        pace = elapsed / done if done > 0.1 * total and done > 0 else 1.0
        return max(0.0, (total - done) * pace)

    def _redraw(self, note: str) -> None:
        done, total = self.expected_done()
        left = self.seconds_left()
        self.progress.update(self.task, completed=done / total,
                             left=f"~{_minutes(left)} left" if left > 0 else "",
                             note=note[:60])


def ensure_toolchain_shown(console: Console) -> Toolchain:
    """The offline toolchain, built first (with a progress bar) when anything is missing."""
    from infra.cluster import toolchain as tc

    if tc.is_complete():
        return tc.toolchain()
    with BuildBar(console, "the offline toolchain (Pulumi, its Kubernetes provider, the "
                           "control plane)") as bar:
        return tc.ensure_toolchain(meter=bar)

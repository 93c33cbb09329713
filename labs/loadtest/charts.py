"""PNG charts of a load test run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from labs.loadtest.summary import Summary, rates  # noqa: E402

# (unix timestamp, replica count) samples, e.g. from the API Deployment or its HPA
ReplicaSamples = Sequence[tuple[float, int]]


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
    return path


def _seconds(ts: Sequence[float], start: float) -> list[float]:
    return [t - start for t in ts]


def throughput_chart(summary: Summary, path: Path) -> Path:
    """Requests/s and failures/s over time, with the number of users."""
    points = rates(summary.history)
    start = summary.history[0].timestamp if summary.history else 0
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = _seconds([p[0] for p in points], start)
    ax.plot(xs, [p[1] for p in points], label="requests/s", color="tab:blue")
    ax.plot(xs, [p[2] for p in points], label="failures/s", color="tab:red")
    ax.set_xlabel("seconds")
    ax.set_ylabel("per second")
    ax.set_title("Throughput and errors")
    users = ax.twinx()
    users.step(_seconds([p.timestamp for p in summary.history], start),
               [p.users for p in summary.history], where="post", color="tab:gray",
               linestyle="--", label="users")
    users.set_ylabel("users")
    lines = ax.get_legend_handles_labels()
    more = users.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    return _save(fig, path)


def latency_chart(summary: Summary, path: Path) -> Path:
    """p50/p95/p99 response times over time (Locust's moving window)."""
    history = summary.history
    start = history[0].timestamp if history else 0
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for attr, label, color in (("p50_ms", "p50", "tab:green"), ("p95_ms", "p95", "tab:orange"),
                               ("p99_ms", "p99", "tab:red")):
        pts = [(p.timestamp - start, getattr(p, attr)) for p in history
               if getattr(p, attr) is not None and p.total_requests > 0]
        ax.plot([x for x, _ in pts], [y for _, y in pts], label=label, color=color)
    ax.set_xlabel("seconds")
    ax.set_ylabel("milliseconds")
    ax.set_title("Response time percentiles")
    ax.legend(loc="upper left")
    return _save(fig, path)


def errors_chart(summary: Summary, path: Path) -> Path:
    """Cumulative failures and the error rate over time."""
    history = summary.history
    start = history[0].timestamp if history else 0
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = [p.timestamp - start for p in history]
    ax.plot(xs, [p.total_failures for p in history], color="tab:red", label="failures (total)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("failures")
    rate = ax.twinx()
    rate.plot(xs, [100 * p.total_failures / p.total_requests if p.total_requests else 0
                   for p in history], color="tab:purple", linestyle="--", label="error rate %")
    rate.set_ylabel("error rate %")
    rate.set_ylim(bottom=0)
    ax.set_title("Errors")
    lines = ax.get_legend_handles_labels()
    more = rate.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    return _save(fig, path)


def replicas_chart(samples: ReplicaSamples, path: Path, start: float | None = None,
                   desired: ReplicaSamples | None = None) -> Path:
    """Ready replicas over time, and what the Deployment/HPA wanted (an HPA scaling the API)."""
    samples = sorted(samples)
    origin = start if start is not None else (samples[0][0] if samples else 0)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step([t - origin for t, _ in samples], [n for _, n in samples], where="post",
            color="tab:blue", label="ready")
    if desired:
        wanted = sorted(desired)
        ax.step([t - origin for t, _ in wanted], [n for _, n in wanted], where="post",
                color="tab:orange", linestyle="--", label="desired")
        ax.legend(loc="upper left")
    ax.set_xlabel("seconds")
    ax.set_ylabel("replicas")
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("API replicas")
    return _save(fig, path)


def render_charts(summary: Summary, out_dir: Path,
                  replica_samples: ReplicaSamples | None = None,
                  desired_replicas: ReplicaSamples | None = None) -> dict[str, Path]:
    """Every chart of a run, by name: throughput, latency, errors (and replicas)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        "throughput": throughput_chart(summary, out_dir / "throughput.png"),
        "latency": latency_chart(summary, out_dir / "latency.png"),
        "errors": errors_chart(summary, out_dir / "errors.png"),
    }
    if replica_samples:
        start = summary.history[0].timestamp if summary.history else None
        charts["replicas"] = replicas_chart(replica_samples, out_dir / "replicas.png", start,
                                            desired_replicas)
    return charts

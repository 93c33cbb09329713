"""gunicorn settings for the API container (port 8000), sized from the CPU it may use.

- Worker model: gthread. Its workers keep connections alive (a sync worker closes every one,
  so each request pays a TCP handshake and a reconnect) and its threads overlap one request's
  database round trips with another's Python. The app's own work is CPU-bound Python, which
  one process runs on one core at a time (the GIL), so: two workers per CPU of the
  container's limit (cgroup cpu.max, i.e. the Pod's `limits.cpu`; else the CPUs it may run
  on), at least 2, with 2 threads each; more threads per process queue requests behind the
  GIL (its 5 ms switch interval shows in p99). WEB_CONCURRENCY overrides the workers.
- Connections are spread evenly: a worker accepts a new one only while no other holds fewer
  (config/balanced_worker.py). Left to the kernel, the worker already running takes most of a
  burst of new keep-alive connections and keeps them, and p99 becomes a lottery.
- Keep-alive 75 s: longer than the ingress's idle timeout for upstream connections, so the
  proxy, not gunicorn, closes an idle one and never reuses a connection gunicorn just closed.
- No access log line per request from gunicorn: the app writes a structured, sampled access
  log (core/accesslog.py). `GUNICORN_CMD_ARGS="--access-logfile -"` turns gunicorn's back on.
- /metrics is correct across workers: every worker writes its metrics to files in
  PROMETHEUS_MULTIPROC_DIR (a fresh directory when unset), which /metrics adds up.
- The app is loaded once in the master and forked (preload_app): workers start fast and share
  its memory pages, frozen out of the garbage collector's scans (gc.freeze). Nothing opens a
  connection at import time.
"""

import gc
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

THREADS_PER_WORKER = 2


def cpu_limit() -> float:
    """CPUs this container may use: its cgroup quota (v2, then v1), else its CPU affinity."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        if quota_us > 0:
            return quota_us / period_us
    except (OSError, ValueError):
        pass
    return float(len(os.sched_getaffinity(0)))


def worker_count(cpus: float) -> int:
    return max(2, 2 * math.ceil(cpus))


def _metrics_dir() -> tuple[str, bool]:
    """The multiprocess metrics directory, and whether it was made here (then removed)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        return path, False
    path = tempfile.mkdtemp(prefix="prometheus-")
    # Set before the app imports prometheus_client: it picks its storage at import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path, True


bind = "0.0.0.0:8000"
worker_class = "config.balanced_worker.BalancedThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY") or worker_count(cpu_limit()))
threads = THREADS_PER_WORKER
keepalive = 75
timeout = 30
graceful_timeout = 20
preload_app = True
# The heartbeat file lives in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
accesslog = None
errorlog = "-"
# No control socket (gunicorn 27 makes one in the working directory, read-only in the pod):
# a container is managed by its orchestrator's signals, not by gunicornc.
control_socket_disable = True
forwarded_allow_ips = "*"
METRICS_DIR, METRICS_DIR_MADE_HERE = _metrics_dir()


def on_starting(server) -> None:
    # A restarted container may find the files of its previous run in a kept volume.
    for entry in Path(METRICS_DIR).glob("*.db"):
        entry.unlink(missing_ok=True)


def when_ready(server) -> None:
    shape = {"worker_class": server.cfg.worker_class_str, "workers": server.cfg.workers,
             "threads": server.cfg.threads, "keepalive": server.cfg.keepalive,
             "cpu_limit": round(cpu_limit(), 2), "accesslog": server.cfg.accesslog}
    print("gunicorn-config " + json.dumps(shape), flush=True)


def pre_fork(server, worker) -> None:
    # The app loaded in the master (Django, DRF, the URL conf: ~100k objects) is moved out of
    # the garbage collector's reach before each fork: a worker's full collections then scan
    # only what it allocated itself (no multi-ms pauses in the tail latency), and they no
    # longer write to the shared pages (copy-on-write keeps them shared).
    gc.freeze()


def child_exit(server, worker) -> None:
    from config.balanced_worker import release

    release(worker)  # its connections are gone: it no longer counts in the balance
    # Imported here, never above: prometheus_client must first see PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import multiprocess

    # Its counters stay in the files (they are cumulative); live gauges of a dead pid go.
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if METRICS_DIR_MADE_HERE:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)

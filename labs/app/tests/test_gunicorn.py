"""The image's gunicorn settings (gunicorn.conf.py): sizing, keep-alive, metrics per process.

The last two run the real server on a free loopback port with two workers, on paths that
touch no database (/healthz, /metrics, /static/).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
CONF = APP_DIR / "gunicorn.conf.py"


def load_conf(monkeypatch, tmp_path):
    # A directory of our own: importing the config must not touch this process's metrics.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("cpus", "workers"), [(0.5, 2), (1, 2), (2, 4), (3.5, 8)])
def test_workers_follow_the_cpu_limit(monkeypatch, tmp_path, cpus, workers):
    conf = load_conf(monkeypatch, tmp_path)
    assert conf.worker_count(cpus) == workers
    assert conf.worker_class == "config.balanced_worker.BalancedThreadWorker" and conf.threads == 2
    assert conf.keepalive > 60 and conf.accesslog is None


def test_cpu_limit_reads_the_cgroup_quota(monkeypatch, tmp_path):
    conf = load_conf(monkeypatch, tmp_path)
    files = {"/sys/fs/cgroup/cpu.max": "150000 100000\n"}
    real_read = Path.read_text

    def read_text(self, *args, **kwargs):
        if str(self) in files:
            return files[str(self)]
        if str(self).startswith("/sys/fs/cgroup/"):
            raise FileNotFoundError(str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert conf.cpu_limit() == 1.5
    files["/sys/fs/cgroup/cpu.max"] = "max 100000\n"  # no limit: the CPUs it may run on
    assert conf.cpu_limit() == len(os.sched_getaffinity(0))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "out.log"
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", str(CONF),
             "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=APP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "gunicorn-config" not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _get(port: int, path: str, conn: http.client.HTTPConnection | None = None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    return response, response.read()


def test_keep_alive_and_what_it_says_at_start(server):
    port, log = server
    shape = json.loads(re.search(r"gunicorn-config (\{.*\})", log.read_text())[1])
    assert shape["worker_class"].endswith("BalancedThreadWorker") and shape["workers"] == 2
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    first, body = _get(port, "/healthz", conn)
    sock = conn.sock
    second, _ = _get(port, "/healthz", conn)
    assert first.status == second.status == 200 and body == b'{"status": "ok"}'
    assert conn.sock is sock and first.getheader("Connection") != "close"  # one connection
    assert not re.search(r'"GET /healthz HTTP/1\.1" 200', log.read_text())  # no access log


def _count(text: str) -> float:
    match = re.search(r'django_http_requests_total\{method="GET",status="200",'
                      r'view="healthz"\} ([0-9.e+]+)', text)
    return float(match[1]) if match else 0.0


def test_metrics_add_up_every_worker(server):
    port, _ = server
    before = _count(_get(port, "/metrics")[1].decode())
    for _ in range(40):  # new connections: the kernel spreads them over both workers
        assert _get(port, "/healthz")[0].status == 200
    # Whichever worker answers the scrape, it reports all 40.
    counts = {_count(_get(port, "/metrics")[1].decode()) - before for _ in range(10)}
    assert counts == {40.0}

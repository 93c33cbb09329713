"""Keep-alive connections spread evenly over gunicorn's workers (config/balanced_worker.py).

The real server, with the image's gunicorn.conf.py, serves a one-line WSGI app that answers
with the pid of the worker holding the connection.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
CONF = APP_DIR / "gunicorn.conf.py"
PID_APP = '''
import os

import time

def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(6)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


class Server:
    def __init__(self, tmp: Path, workers: int, conf: Path = CONF) -> None:
        (tmp / "pid_app.py").write_text(PID_APP)
        self.port = _free_port()
        self.log = tmp / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "pid_app:app", "-c", str(conf),
                 "--pythonpath", f"{tmp},{APP_DIR}", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers)],
                cwd=APP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.wait_for_workers(workers)

    def wait_for_workers(self, count: int, *, besides: set[int] = frozenset()) -> set[int]:
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            workers = _workers(self.proc.pid)
            if "gunicorn-config" in self.log.read_text() and len(workers - besides) >= count:
                time.sleep(0.5)  # forked workers take a moment to start listening
                return workers
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def connect(self, count: int) -> list[socket.socket]:
        """`count` connections opened at once, as a load generator or proxy pool does."""
        return [socket.create_connection(("127.0.0.1", self.port), timeout=10)
                for _ in range(count)]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def ask(sock: socket.socket) -> tuple[int, bool]:
    """The pid of the worker answering on this connection, and whether it ends it."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    return int(body), b"connection: close" in head.lower()


def holder(sock: socket.socket) -> int:
    """The pid of the worker answering on this connection, which it keeps alive."""
    pid, closing = ask(sock)
    assert not closing
    return pid


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    started: list[Server] = []

    def start(workers: int, conf: Path = CONF) -> Server:
        started.append(Server(tmp_path, workers, conf))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def test_a_burst_of_connections_is_spread_evenly(server):
    srv = server(4)
    for _ in range(3):  # each burst is dealt out anew: no lucky draw
        conns = srv.connect(16)
        held = collections.Counter(holder(sock) for sock in conns)
        assert set(held) == _workers(srv.proc.pid)  # every worker holds some
        assert max(held.values()) - min(held.values()) <= 1, held
        for sock in conns:  # still kept alive, still on the same worker
            assert holder(sock) in held
            sock.close()
        time.sleep(0.2)


def test_new_connections_go_to_the_worker_holding_fewest(server):
    srv = server(2)
    first = srv.connect(4)
    held = collections.Counter(holder(sock) for sock in first)
    assert sorted(held.values()) == [2, 2]
    more = srv.connect(2)
    assert sorted(collections.Counter(map(holder, more)).values()) == [1, 1]

    # A worker dies with its connections: its replacement, holding none, takes the next ones
    # (and the dead one's count holds nobody back).
    victim, survivor = held
    os.kill(victim, signal.SIGKILL)
    replacement = srv.wait_for_workers(1, besides={survivor, victim}) - {survivor, victim}
    fresh = srv.connect(3)
    assert [holder(sock) for sock in fresh] == [replacement.pop()] * 3
    for sock in first + more + fresh:
        sock.close()


def test_a_worker_holding_two_more_hands_a_connection_over(server):
    srv = server(2)
    conns = srv.connect(4)
    by_worker = collections.defaultdict(list)
    for sock in conns:
        by_worker[holder(sock)].append(sock)
    left, right = by_worker
    for sock in by_worker[left]:  # its client lets go of both: the counts are now 0 and 2
        sock.close()
    deadline = time.monotonic() + 10
    while True:  # once `left` has seen them close, `right` ends its next answered connection
        pid, closing = ask(by_worker[right][0])
        assert pid == right
        if closing:
            break
        assert time.monotonic() < deadline, "the worker holding two more never let one go"
        time.sleep(0.05)
    replacement = srv.connect(1)[0]
    assert holder(replacement) == left  # the reconnecting client lands on the one holding fewest
    assert holder(by_worker[right][1]) == right  # 1 and 1: nobody lets go any more
    assert holder(replacement) == left


def test_a_stopping_worker_holds_nobody_back(server):
    srv = server(2)
    by_worker = collections.defaultdict(list)
    for sock in srv.connect(4):
        by_worker[holder(sock)].append(sock)
    stopping, staying = by_worker
    busy, idle = by_worker[stopping]
    busy.sendall(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")  # answered in 6 s
    time.sleep(0.5)
    os.kill(stopping, signal.SIGTERM)
    # Within gthread's 2 s linger it closes its idle connection; it drains the busy one.
    assert idle.recv(1) == b""
    # It now holds 1 and `staying` 2; still, a new client is served at once (by `staying`),
    # not after the stopping worker's last request.
    started = time.monotonic()
    assert holder(srv.connect(1)[0]) == staying
    assert time.monotonic() - started < 3


def test_without_the_child_exit_hook_a_dead_workers_count_is_swept(server, tmp_path):
    # A config that names the worker class but does not free rows in child_exit.
    bare = tmp_path / "bare.conf.py"
    bare.write_text('worker_class = "config.balanced_worker.BalancedThreadWorker"\n'
                    "def when_ready(server):\n    print('gunicorn-config', flush=True)\n")
    srv = server(2, bare)
    by_worker = {holder(sock): sock for sock in srv.connect(2)}
    (dying, its_sock), (staying, _) = by_worker.items()
    its_sock.close()  # it dies holding 0, fewer than anyone left
    time.sleep(0.5)
    os.kill(dying, signal.SIGKILL)
    srv.wait_for_workers(1, besides={dying, staying})
    # Were its 0 still counted, nobody holding 1 would ever accept again.
    started = time.monotonic()
    assert len({holder(sock) for sock in srv.connect(3)}) == 2
    assert time.monotonic() - started < 1  # ~0.02 s; 2 s when the dead row stayed

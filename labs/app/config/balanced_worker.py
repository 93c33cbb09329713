"""gunicorn's gthread worker, accepting a new connection only while it holds the fewest.

All workers wait on one listening socket, and whichever the kernel runs first takes the next
connection: usually the one already on a CPU. A client that opens its connections at once
(a load generator, an ingress's upstream pool) can so find 12 of its 16 keep-alive
connections on one worker and 0 on another, and they stay there: that worker's requests queue
behind its two threads while a sibling idles, so p99 and even throughput become a lottery
drawn at connect time. (nginx answers this with accept_mutex or per-worker reuseport.)

Here every worker publishes how many connections it holds in a table shared by the master
and its workers (anonymous shared memory, made before the fork), and listens for new ones
only while no live worker holds fewer. Whoever holds the fewest always listens, so a
connection never waits for a busy worker; a worker that stopped listening looks again every
ACCEPT_RECHECK_S. The master gives each worker its row before the fork and frees it when
the worker exits (gunicorn.conf.py's child_exit calls release), so a dead worker's count
never holds the others back; a stopping worker steps out of the count at once, so its
draining connections do not either. A worker holding two more than the fewest ends a
connection after its next response, so an imbalance that forms later heals too.
"""

from __future__ import annotations

import os
import socket
from multiprocessing.sharedctypes import RawArray, RawValue

from gunicorn.workers.gthread import ThreadWorker

MAX_WORKERS = 256
ACCEPT_RECHECK_S = 0.02

# Row i: the pid of the worker in it (0 free; -1 takes no connections: forked but not yet
# running, or stopping), and how many connections it holds.
_pids = RawArray("q", MAX_WORKERS)
_conns = RawArray("q", MAX_WORKERS)
_rows_used = RawValue("q", 0)


def _claim_row() -> int | None:
    """In the master: a free row for the worker about to be forked (None if all are taken)."""
    for row in range(_rows_used.value):
        # Died without child_exit (a config without the hook); the arbiter reaped it already.
        if _pids[row] > 0 and not os.path.exists(f"/proc/{_pids[row]}"):
            _pids[row] = 0
    for row in range(MAX_WORKERS):
        if _pids[row] == 0:
            _pids[row], _conns[row] = -1, 0
            _rows_used.value = max(_rows_used.value, row + 1)
            return row
    return None


def release(worker: object) -> None:
    """In the master, when `worker` has exited: its row (and its count) are free again."""
    row = getattr(worker, "row", None)
    if row is not None:
        _pids[row], _conns[row] = 0, 0


def fewest_held() -> int | None:
    """The fewest connections any running worker holds (None before any runs)."""
    used = _rows_used.value
    counts = [n for pid, n in zip(_pids[:used], _conns[:used], strict=True) if pid > 0]
    return min(counts) if counts else None


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs) -> None:
        self.row = _claim_row()  # before gthread's __init__, which sets nr_conns
        self._held = 0
        super().__init__(*args, **kwargs)

    def init_process(self) -> None:
        if self.row is not None:
            _pids[self.row] = os.getpid()
        super().init_process()

    # gthread counts its connections in nr_conns (+1 on accept, -1 on every close): each
    # change is published at once.
    @property
    def nr_conns(self) -> int:
        return self._held

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._held = value
        if self.row is not None:
            _conns[self.row] = value

    def holds_fewest(self) -> bool:
        fewest = fewest_held()
        return self.row is None or fewest is None or self._held <= fewest

    def holds_excess(self) -> bool:
        """Two or more connections above the fewest: one of them should move."""
        fewest = fewest_held()
        return self.row is not None and fewest is not None and self._held > fewest + 1

    # gthread ends a connection after its response ("Connection: close") when this many are
    # already idle. Placing new connections cannot undo an imbalance that forms later (a
    # client lets go of the connections on one worker; the counts at a burst still held
    # connections about to close): a worker with an excess ends the next one it answers, its
    # client reconnects and the worker holding fewest takes it, as nginx ends a connection
    # after keepalive_requests.
    @property
    def max_keepalived(self) -> int:
        return 0 if self.holds_excess() else self._max_keepalived

    @max_keepalived.setter
    def max_keepalived(self, value: int) -> None:
        self._max_keepalived = value

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.holds_fewest())

    def accept(self, listener: socket.socket) -> None:
        # Asked again at the moment of accepting: every listening worker is woken by a new
        # connection, and since it last looked another may have come up or let go of some.
        if self.holds_fewest():
            super().accept(listener)
        else:
            super().set_accept_enabled(False)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Once per turn of gthread's loop: the others' counts may have changed meanwhile.
        if self.alive:
            self.set_accept_enabled(self._held < self.worker_connections)
        elif self.row is not None:  # stopping (SIGTERM, max_requests): it takes no more
            _pids[self.row] = -1
        if not self._accepting:
            timeout = min(timeout, ACCEPT_RECHECK_S)
        super().wait_for_and_dispatch_events(timeout)

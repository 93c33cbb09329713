"""Django's PostgreSQL backend; the per-request connection health check without a round trip.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request on
a kept connection: a round trip, and Postgres work, on every request. A connection that a
database restart (or a terminated backend) broke has already been told so: the server sent
its error or closed the socket, so the socket has something to read. An idle connection in
good order has nothing to read. So the check asks the socket first (one poll(2), no
waiting) and sends `SELECT 1` only when the socket is not quiet or psycopg already knows the
connection is closed or not idle; Django then replaces a connection that fails it, as
before. Everything else is Django's backend, unchanged.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (self.connection is not None and self.health_check_enabled
                and not self.health_check_done and not self.pool and self.quiet()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def quiet(self) -> bool:
        """Open, idle, and nothing from the server waiting to be read."""
        conn = self.connection
        if (conn.closed or conn.broken or conn.pgconn.status != pq.ConnStatus.OK
                or conn.info.transaction_status != pq.TransactionStatus.IDLE):
            return False
        try:
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

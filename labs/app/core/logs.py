"""Log handlers: writes happen on a background thread, never in the request.

`BackgroundStreamHandler` only puts a record on an in-memory queue; a listener thread of the
same process writes it to stderr (the container's log). A slow log pipe then never stalls a
request, and records still come out within milliseconds, in order. The listener starts on
first use in each process (gunicorn forks its workers from a master that has loaded the app,
and threads do not survive a fork) and is drained at exit (logging.shutdown closes it).

(A plain Handler rather than a QueueHandler subclass: dictConfig builds those its own way.)
"""

from __future__ import annotations

import copy
import logging
import os
import queue
from logging.handlers import QueueListener


class BackgroundStreamHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__()
        self.target = logging.StreamHandler(stream)
        self.queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._pid: int | None = None
        self._listener: QueueListener | None = None

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 (logging's name)
        super().setFormatter(fmt)
        self.target.setFormatter(fmt)  # the listener thread formats

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Merge the arguments now, so a mutable one is logged as it is at this moment. A copy:
        # other handlers (pytest's caplog) see the original record.
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = (self.formatter or logging.Formatter()).formatException(
                record.exc_info)
            record.exc_info = None
        return record

    def _start(self) -> None:
        self.queue = queue.SimpleQueue()  # a fresh one: a forked copy may hold the parent's
        self._listener = QueueListener(self.queue, self.target)
        self._listener.start()
        self._pid = os.getpid()

    def close(self) -> None:
        """Write what is still queued and stop the thread (logging.shutdown calls this at
        exit). A later record starts a new one."""
        listener, self._listener = self._listener, None
        if listener is not None and self._pid == os.getpid():
            listener.stop()
        super().close()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # handle() holds self.lock: one thread starts the listener
            if self._listener is None or self._pid != os.getpid():
                self._start()
            self.queue.put_nowait(self.prepare(record))
        except Exception:
            self.handleError(record)

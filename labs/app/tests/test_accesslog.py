"""The structured access log (core/accesslog.py) and its background writer (core/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.logs import BackgroundStreamHandler

pytestmark = pytest.mark.django_db
APP_DIR = Path(__file__).resolve().parents[1]


def access_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "labs.access"]


def test_errors_and_slow_requests_always_the_rest_sampled(settings, api, guest, caplog):
    settings.ACCESS_LOG_SAMPLE = 0.0
    with caplog.at_level(logging.INFO, logger="labs.access"):
        api(guest).get("/healthz")
        api(None).get("/api/conversations/")  # 401
        api(guest).get("/api/nothing-here/")  # 404
    lines = access_lines(caplog)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/api/conversations/", 401), ("/api/nothing-here/", 404)]
    assert lines[0]["sample"] == 1.0 and lines[0]["view"] == "conversation-list"

    caplog.clear()
    settings.ACCESS_LOG_SLOW_MS = 0  # everything is slow
    with caplog.at_level(logging.INFO, logger="labs.access"):
        api(guest).get("/healthz")
    assert [line["path"] for line in access_lines(caplog)] == ["/healthz"]


def test_a_sampled_line_says_who_and_what_it_cost(settings, api, guest, caplog):
    settings.ACCESS_LOG_SAMPLE = 1.0
    with caplog.at_level(logging.INFO, logger="labs.access"):
        api(guest).get("/api/bookings/", HTTP_X_REQUEST_ID="req-42")
        api(None).get("/healthz")
    booking, probe = access_lines(caplog)
    assert booking["user"] == str(guest.pk) and booking["queries"] >= 1
    assert booking["status"] == 200 and booking["sample"] == 1.0
    assert booking["request_id"] == "req-42" and booking["ms"] >= 0
    assert {"ts", "method", "ip", "view"} <= set(booking)
    assert probe["user"] is None and probe["queries"] == 0  # the log never authenticates


def test_background_handler_writes_in_order_off_the_calling_thread():
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    writers: set[str] = set()
    write = handler.target.emit
    handler.target.emit = lambda record: writers.add(threading.current_thread().name) or \
        write(record)
    logger = logging.getLogger("tests.background")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        items = [1]
        for i in range(200):
            logger.warning("line %d %s", i, items)
        items.append(2)  # logged as it was when the call was made
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
        handler.close()
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["WARNING line 0 [1]", "WARNING line 1 [1]"]
    assert lines[199] == "WARNING line 199 [1]" and lines[200] == "ERROR failed"
    assert "ValueError: boom" in stream.getvalue()
    assert threading.current_thread().name not in writers


FORK = """
import logging, os, sys
from core.logs import BackgroundStreamHandler
handler = BackgroundStreamHandler(open(sys.argv[1], "a"))
def log(msg):
    handler.handle(logging.LogRecord("x", logging.WARNING, "fork", 1, msg, None, None))
log("parent")
pid = os.fork()
if pid == 0:  # gunicorn's worker: the parent's listener thread is not there
    log("child")
    handler.close()
    os._exit(0)
os.waitpid(pid, 0)
log("parent again")
handler.close()
"""


def test_background_handler_starts_again_in_a_forked_child(tmp_path):
    # In a fresh interpreter: forking this multi-threaded test process could deadlock.
    path = tmp_path / "log"
    subprocess.run([sys.executable, "-c", FORK, str(path)], cwd=APP_DIR, check=True,
                   timeout=60)
    lines = path.read_text().splitlines()
    assert sorted(lines) == ["child", "parent", "parent again"]
    assert lines.index("parent") < lines.index("parent again")

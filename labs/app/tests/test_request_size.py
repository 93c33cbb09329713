"""Issue 11, item 5: a body over DATA_UPLOAD_MAX_MEMORY_SIZE gets a clean 413 in JSON.

In-process for every kind of endpoint, and against a real gunicorn (gunicorn.conf.py) on
loopback, where the bug lived: gunicorn drains at most 64 KiB of a body nobody read before
closing, so a client still uploading 10 MB saw its connection reset instead of the answer.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

APP_DIR = Path(__file__).resolve().parents[1]
TEN_MB = b'{"email": "' + b"a" * (10 * 1024 * 1024) + b'"}'
ENDPOINTS = ["/api/auth/signup/", "/api/auth/token/", "/graphql", "/api/payments/webhook/",
             "/api/listings/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_oversized_body_is_a_413_in_json(path, settings):
    body = b"[" + b"1," * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2) + b"1]"
    response = Client(raise_request_exception=False).post(path, body,
                                                          content_type="application/json")
    assert response.status_code == 413, response.content[:200]
    assert "too large" in response.json()["detail"]


def test_a_body_at_the_limit_is_read_as_usual(db, settings):
    body = json.dumps({"email": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 20)})
    assert len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = Client().post("/api/auth/signup/", body, content_type="application/json")
    assert response.status_code == 400 and "email" in response.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_url():
    """The app under gunicorn with its own gunicorn.conf.py, bound to loopback."""
    port = _free_port()
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "/dev/null"],
        cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(20)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_gunicorn_answers_a_10_mb_body_with_413_on_an_intact_connection(gunicorn_url, path):
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_url, timeout=30)
    for _ in range(3):  # was intermittent: a reset mid-upload (BrokenPipe/ConnectionReset)
        conn.request("POST", path, body=TEN_MB, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 413, body[:200]
        assert response.getheader("Content-Type") == "application/json"
        assert "too large" in json.loads(body)["detail"]
    conn.request("GET", "/healthz")  # the same keep-alive connection still serves
    assert conn.getresponse().status == 200
    conn.close()

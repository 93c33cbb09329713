"""Mailpit on loopback for lesson checks: catch what the app sends and read it back.

`Mailpit` runs the toolchain's mailpit binary (``invoke toolchain`` builds it) on free
127.0.0.1 ports with a throwaway database, and stops it on exit::

    with Mailpit() as mp:
        send_with_smtplib(mp.smtp_host, mp.smtp_port, ...)
        msg = wait_for_message(mp.api_url, "alice@example.test", timeout=5)

Messages (``/api/v1/messages``, ``/api/v1/search``) are summaries, newest first::

    {"ID": "7IqHAv70DrQcVmuKO9GVba", "MessageID": "...@mailpit", "Read": false,
     "From": {"Name": "Sender", "Address": "sender@example.test"},
     "To": [{"Name": "Alice", "Address": "alice@example.test"}], "Cc": [...],
     "Bcc": [...] or null, "ReplyTo": [...] or null, "Subject": "...",
     "Created": "2026-11-28T09:14:08.744Z", "Username": "", "Tags": [], "Size": 473,
     "Attachments": 0, "Snippet": "body text"}

`message(api_url, id)` (``/api/v1/message/{ID}``) adds ``Text``, ``HTML``, ``ReturnPath``,
``Date``, ``Inline`` and ``Attachments`` (a list there). Envelope recipients not named in
To/Cc show up in ``Bcc``.

Chaos (``--enable-chaos``, on by default here) makes the SMTP server refuse deliveries:
`set_chaos_fail` fails the sender (MAIL FROM) or recipients (RCPT TO) with an SMTP error code at a
probability in percent; `clear_chaos` turns it off.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def default_binary() -> Path:
    """The mailpit built by ``invoke toolchain`` (path only; it may not exist yet)."""
    from infra.cluster.toolchain import toolchain

    return toolchain().mailpit


class Mailpit:
    """A Mailpit process on loopback: SMTP at (smtp_host, smtp_port), HTTP API at api_url."""

    def __init__(self, binary: Path | None = None, *, chaos: bool = True,
                 start_timeout: float = 15.0) -> None:
        self.binary = Path(binary) if binary else default_binary()
        self.chaos = chaos
        self.start_timeout = start_timeout
        self.smtp_host = HOST
        self.smtp_port = 0
        self.http_port = 0
        self._proc: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def log(self) -> Path | None:
        return Path(self._tmp.name) / "mailpit.log" if self._tmp else None

    def __enter__(self) -> Mailpit:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if not self.binary.is_file():
            raise RuntimeError(f"mailpit binary not found at {self.binary}: run `invoke toolchain` "
                               "(builds it offline from the Go module proxy)")
        self._tmp = tempfile.TemporaryDirectory(prefix="mailpit-")
        last = ""
        for _ in range(3):  # a free port can be taken between probing and binding
            self.smtp_port, self.http_port = _free_port(), _free_port()
            argv = [str(self.binary), "--smtp", f"{HOST}:{self.smtp_port}",
                    "--listen", f"{HOST}:{self.http_port}",
                    "--database", str(Path(self._tmp.name) / "mailpit.db"),
                    "--disable-version-check", "--smtp-disable-rdns"]
            if self.chaos:
                argv.append("--enable-chaos")
            with self.log.open("w") as out:
                self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready():
                return
            last = self.log.read_text(errors="replace")[-2000:]
            self._kill()
        self.stop()
        raise RuntimeError(f"mailpit did not start on {HOST}:\n{last}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            with contextlib.suppress(OSError, requests.RequestException):
                with socket.create_connection((HOST, self.smtp_port), timeout=1):
                    pass
                if requests.get(f"{self.api_url}/readyz", timeout=1).ok:
                    return True
            time.sleep(0.1)
        return False

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        self._kill()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --- client ------------------------------------------------------------------------------------


def _addresses(msg: dict[str, Any]) -> set[str]:
    return {a["Address"].lower() for key in ("To", "Cc", "Bcc") for a in msg.get(key) or ()}


def messages_to(api_url: str, address: str, *, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Summaries of the messages delivered to ``address`` (To, Cc or envelope-only), newest first.

    Mailpit's search matches substrings (``addressed:bob@x`` also finds ``jimbob@x``, and the
    sender), so the results are narrowed to exact recipients here.
    """
    r = requests.get(f"{api_url}/api/v1/search",
                     params={"query": f"addressed:{address}", "limit": 1000}, timeout=timeout)
    r.raise_for_status()
    want = address.lower()
    return [m for m in r.json()["messages"] if want in _addresses(m)]


def message(api_url: str, message_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """The full message (headers summary, Text, HTML, attachments list) by its ``ID``."""
    r = requests.get(f"{api_url}/api/v1/message/{message_id}", timeout=timeout)
    r.raise_for_status()
    return r.json()


def wait_for_message(api_url: str, address: str, timeout: float = 10.0,
                     interval: float = 0.2) -> dict[str, Any]:
    """The newest message to ``address``, waiting up to ``timeout`` seconds for one to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        found = messages_to(api_url, address)
        if found:
            return found[0]
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no mail to {address} reached {api_url} within {timeout:g}s")
        time.sleep(interval)


def delete_all(api_url: str, *, timeout: float = 5.0) -> None:
    """Delete every caught message."""
    requests.delete(f"{api_url}/api/v1/messages", timeout=timeout).raise_for_status()


def set_chaos_fail(api_url: str, *, recipient: int = 0, sender: int = 0, code: int = 451,
              timeout: float = 5.0) -> dict[str, Any]:
    """Fail SMTP deliveries on demand: ``recipient``/``sender`` are probabilities (0-100 %) that
    RCPT TO / MAIL FROM is refused with ``code`` (400-599; 4xx is temporary, 5xx permanent).

    Needs Mailpit started with chaos enabled. Each call replaces the whole configuration; returns
    the one now in force.
    """
    body = {"Sender": {"ErrorCode": code, "Probability": sender},
            "Recipient": {"ErrorCode": code, "Probability": recipient}}
    r = requests.put(f"{api_url}/api/v1/chaos", json=body, timeout=timeout)
    if not r.ok:
        raise RuntimeError(f"mailpit refused the chaos settings ({r.status_code}): "
                           f"{r.text.strip()}")
    return r.json()


def clear_chaos(api_url: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """Deliveries succeed again (every trigger at probability 0)."""
    return set_chaos_fail(api_url, timeout=timeout)

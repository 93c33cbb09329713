"""The Chapa sandbox's checkout notifies the app (callback and signed webhook) unless the payer's
form says notify=0: what lesson 6's checks use so the sandbox's own webhook, which reaches the
API inside the lab, does not settle the payment before the endpoint under test can."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from labs.chapa_sandbox import ChapaSandbox, generate_test_key, sign

pytestmark = pytest.mark.service

SECRET = "whsec-notify-test"


class Receiver:
    """The app's callback and webhook endpoints: records what arrives."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes, str | None]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append((self.command, self.path, body, self.headers.get("Chapa-Signature")))
                self.send_response(200)
                self.end_headers()

            do_GET = do_POST = _record

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.server.shutdown()


@pytest.fixture(scope="module")
def sandbox(receiver: Receiver) -> Iterator[ChapaSandbox]:
    with ChapaSandbox(secret_key="", webhook_secret=SECRET,
                      webhook_url=f"{receiver.url}/webhook/") as server:
        yield server


def _checkout(sandbox: ChapaSandbox, receiver: Receiver, tx_ref: str) -> str:
    created = requests.post(
        f"{sandbox.url}/v1/transaction/initialize",
        headers={"Authorization": f"Bearer {generate_test_key()}"},
        json={"amount": "250", "currency": "ETB", "tx_ref": tx_ref, "email": "a@b.et",
              "callback_url": f"{receiver.url}/callback/"}, timeout=5).json()
    return created["data"]["checkout_url"]


def test_paying_notifies_the_app_by_callback_and_signed_webhook(sandbox: ChapaSandbox,
                                                               receiver: Receiver) -> None:
    url = _checkout(sandbox, receiver, "notify-1")
    before = len(receiver.seen)
    assert requests.post(url, data={"outcome": "success"}, timeout=10).status_code == 200
    callback, webhook = receiver.seen[before:]
    assert callback[0] == "GET" and "trx_ref=notify-1" in callback[1] and "status=success" \
        in callback[1]
    assert webhook[0] == "POST" and json.loads(webhook[2])["tx_ref"] == "notify-1"
    assert webhook[3] == sign(webhook[2], SECRET)


def test_notify_0_settles_without_telling_the_app(sandbox: ChapaSandbox,
                                                 receiver: Receiver) -> None:
    url = _checkout(sandbox, receiver, "notify-2")
    before = len(receiver.seen)
    assert requests.post(url, data={"outcome": "failed", "notify": "0"},
                         timeout=10).status_code == 200
    assert receiver.seen[before:] == []
    verify = requests.get(f"{sandbox.url}/v1/transaction/verify/notify-2",
                          headers={"Authorization": f"Bearer {generate_test_key()}"},
                          timeout=5).json()
    assert verify["data"]["status"] == "failed"

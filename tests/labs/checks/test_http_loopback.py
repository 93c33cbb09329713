"""Checks reach a learner's ingress host (`<learner>.labs.localhost`) on loopback by name."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from labs.checks.http import Api, loopback_route


def test_a_localhost_subdomain_goes_to_loopback_with_its_name_as_host() -> None:
    assert loopback_route("http://ada.labs.localhost/api/x/?q=1") == (
        "http://127.0.0.1/api/x/?q=1", {"Host": "ada.labs.localhost"})
    assert loopback_route("http://ada.labs.localhost:8080/") == (
        "http://127.0.0.1:8080/", {"Host": "ada.labs.localhost:8080"})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/healthz", "http://localhost/x",
                                 "http://api.example.org/", "https://ada.labs.localhost/",
                                 "http://localhost.example.org/"])
def test_other_urls_are_sent_as_they_are(url: str) -> None:
    assert loopback_route(url) == (url, {})


@pytest.fixture
def echo_host() -> Iterator[int]:
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            body = f'{{"host": "{self.headers["Host"]}"}}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def test_the_client_reaches_a_localhost_name_the_resolver_may_not_know(echo_host: int) -> None:
    reply = Api(f"http://ada.labs.localhost:{echo_host}").get("/healthz")
    assert reply.status == 200
    assert reply.body == {"host": f"ada.labs.localhost:{echo_host}"}

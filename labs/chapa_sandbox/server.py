"""The sandbox server: a ThreadingHTTPServer with Chapa's routes.

Routes (as Chapa's API at https://api.chapa.co):
  POST /v1/transaction/initialize        -> 200 {"message": "Hosted Link", "status": "success",
                                                 "data": {"checkout_url": ...}}
  GET  /v1/transaction/verify/<tx_ref>   -> 200 {"message": "Payment details", "status":
                                                 "success", "data": {..., "status": ...}}
  GET  /checkout/payment/<token>         -> the hosted checkout page (HTML)
  POST /checkout/payment/<token>         -> outcome=success|failed: settles the transaction,
                                            calls callback_url (GET ?trx_ref&ref_id&status),
                                            POSTs the signed webhook, redirects to return_url;
                                            notify=0 (sandbox only) holds the callback and
                                            webhook, as if Chapa's were lost, so a test can
                                            drive the app's own verify/callback/webhook
  GET  /healthz                          -> {"status": "ok"}
Errors use Chapa's shape: {"message": <str or {field: [msgs]}>, "status": "failed",
"data": null}; a missing or wrong key gets 401 "Invalid API Key".
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import string
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("chapa_sandbox")

TEST_KEY_PATTERN = re.compile(r"^CHASECK_TEST-[A-Za-z0-9]{16,64}$")
TX_REF_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
PHONE_PATTERN = re.compile(r"^0[79]\d{8}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DESCRIPTION_PATTERN = re.compile(r"^[A-Za-z0-9 ._-]*$")
CURRENCIES = ("ETB", "USD")
_ALPHANUM = string.ascii_letters + string.digits


def generate_test_key() -> str:
    return "CHASECK_TEST-" + "".join(secrets.choice(_ALPHANUM) for _ in range(32))


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the raw body keyed by the webhook secret, hex (as Chapa sends it)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@dataclass
class Transaction:
    tx_ref: str
    amount: Decimal
    currency: str
    email: str | None
    first_name: str | None
    last_name: str | None
    phone_number: str | None
    callback_url: str | None
    return_url: str | None
    customization: dict
    meta: dict | None
    token: str = field(default_factory=lambda: "".join(
        secrets.choice(_ALPHANUM) for _ in range(45)))
    reference: str = field(default_factory=lambda: "AP" + "".join(
        secrets.choice(_ALPHANUM) for _ in range(10)))
    status: str = "pending"
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    @property
    def charge(self) -> Decimal:
        return (self.amount * Decimal("0.035")).quantize(Decimal("0.01"))

    def verify_data(self) -> dict:
        return {
            "first_name": self.first_name, "last_name": self.last_name, "email": self.email,
            "currency": self.currency, "amount": float(self.amount), "charge": float(self.charge),
            "mode": "test", "method": "test", "type": "API", "status": self.status,
            "reference": self.reference, "tx_ref": self.tx_ref,
            "customization": {"title": self.customization.get("title"),
                              "description": self.customization.get("description"),
                              "logo": self.customization.get("logo")},
            "meta": self.meta, "created_at": self.created_at, "updated_at": self.updated_at,
        }

    def webhook_event(self) -> dict:
        return {
            "event": "charge.success" if self.status == "success" else "charge.failed",
            "first_name": self.first_name, "last_name": self.last_name, "email": self.email,
            "mobile": self.phone_number, "currency": self.currency,
            "amount": f"{self.amount:.2f}", "charge": f"{self.charge:.2f}",
            "status": self.status,
            "failure_reason": None if self.status == "success" else "Declined in the sandbox",
            "mode": "test", "reference": self.reference, "created_at": self.created_at,
            "updated_at": self.updated_at, "type": "API", "tx_ref": self.tx_ref,
            "payment_method": "test", "customization": self.customization, "meta": self.meta,
        }


def _failed(message) -> dict:
    return {"message": message, "status": "failed", "data": None}


def validate_initialize(body: dict) -> dict[str, list[str]]:
    """Chapa-style (Laravel) validation messages per field."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    amount = body.get("amount")
    if amount in (None, ""):
        add("amount", "The amount field is required.")
    else:
        try:
            if Decimal(str(amount)) <= 0:
                add("amount", "The amount must be greater than 0.")
        except InvalidOperation:
            add("amount", "The amount must be a number.")
    currency = body.get("currency")
    if not currency:
        add("currency", "The currency field is required.")
    elif str(currency).upper() not in CURRENCIES:
        add("currency", "The selected currency is invalid.")
    tx_ref = body.get("tx_ref")
    if not tx_ref:
        add("tx_ref", "The tx ref field is required.")
    elif not TX_REF_PATTERN.match(str(tx_ref)):
        add("tx_ref", "The tx ref format is invalid.")
    email = body.get("email")
    if email and not EMAIL_PATTERN.match(str(email)):
        add("email", "The email must be a valid email address.")
    phone = body.get("phone_number")
    if phone and not PHONE_PATTERN.match(str(phone)):
        add("phone_number", "The phone number format is invalid.")
    for name in ("callback_url", "return_url"):
        url = body.get(name)
        if url and urllib.parse.urlsplit(str(url)).scheme not in ("http", "https"):
            add(name, f"The {name.replace('_', ' ')} format is invalid.")
    customization = body.get("customization") or {}
    title = customization.get("title") or ""
    if len(title) > 16:
        add("customization.title",
            "The customization.title must not be greater than 16 characters.")
    description = customization.get("description") or ""
    if not DESCRIPTION_PATTERN.match(description):
        add("customization.description",
            "The customization.description may only contain letters, numbers, hyphens, "
            "underscores, spaces, and dots.")
    return errors


def _form_to_body(form: dict[str, list[str]]) -> dict:
    """Form posts spell customization as customization[title]."""
    body: dict = {}
    for key, values in form.items():
        match = re.fullmatch(r"(\w+)\[(\w+)\]", key)
        if match:
            body.setdefault(match[1], {})[match[2]] = values[-1]
        else:
            body[key] = values[-1]
    return body


class ChapaSandbox:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, secret_key: str = "",
                 webhook_secret: str = "", webhook_url: str = "", public_url: str = "",
                 delivery_timeout: float = 10.0) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.public_url = public_url.rstrip("/")
        self.delivery_timeout = delivery_timeout
        self.transactions: dict[str, Transaction] = {}
        self.deliveries: list[dict] = []  # callbacks and webhooks sent, for tests and logs
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self._httpd.server_address[0]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"

    def start(self) -> ChapaSandbox:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="chapa-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ChapaSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- behaviour -------------------------------------------------------------------------
    def key_valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        key = authorization[len("Bearer "):].strip()
        if self.secret_key:
            return hmac.compare_digest(key, self.secret_key)
        return bool(TEST_KEY_PATTERN.match(key))

    def initialize(self, body: dict, base_url: str) -> tuple[int, dict]:
        errors = validate_initialize(body)
        if errors:
            return 400, _failed(errors)
        with self._lock:
            if body["tx_ref"] in self.transactions:
                return 400, _failed("Transaction reference has been used before")
            tx = Transaction(
                tx_ref=str(body["tx_ref"]), amount=Decimal(str(body["amount"])),
                currency=str(body["currency"]).upper(), email=body.get("email"),
                first_name=body.get("first_name"), last_name=body.get("last_name"),
                phone_number=body.get("phone_number"), callback_url=body.get("callback_url"),
                return_url=body.get("return_url"),
                customization=dict(body.get("customization") or {}), meta=body.get("meta"),
            )
            self.transactions[tx.tx_ref] = tx
        checkout_url = f"{self.public_url or base_url}/checkout/payment/{tx.token}"
        return 200, {"message": "Hosted Link", "status": "success",
                     "data": {"checkout_url": checkout_url}}

    def verify(self, tx_ref: str) -> tuple[int, dict]:
        tx = self.transactions.get(tx_ref)
        if tx is None:
            return 404, _failed("Invalid transaction or Transaction not found")
        return 200, {"message": "Payment details", "status": "success", "data": tx.verify_data()}

    def by_token(self, token: str) -> Transaction | None:
        return next((t for t in list(self.transactions.values()) if t.token == token), None)

    def complete(self, tx_ref: str, outcome: str = "success", notify: bool = True
                 ) -> Transaction:
        """What paying (or failing) on the checkout page does; returns the transaction.
        notify=False settles it without the callback and webhook."""
        if outcome not in ("success", "failed"):
            raise ValueError("outcome must be success or failed")
        with self._lock:
            tx = self.transactions[tx_ref]
            if tx.status != "pending":
                return tx  # a finished checkout cannot be paid twice
            tx.status = outcome
            tx.updated_at = _now()
        if notify:
            self._deliver(tx)
        return tx

    def _deliver(self, tx: Transaction) -> None:
        if tx.callback_url:
            query = urllib.parse.urlencode({"trx_ref": tx.tx_ref, "ref_id": tx.reference,
                                            "status": tx.status})
            sep = "&" if urllib.parse.urlsplit(tx.callback_url).query else "?"
            self._send("callback", urllib.request.Request(f"{tx.callback_url}{sep}{query}"))
        if self.webhook_url:
            body = json.dumps(tx.webhook_event()).encode()
            headers = {"Content-Type": "application/json"}
            if self.webhook_secret:
                signature = sign(body, self.webhook_secret)
                headers |= {"Chapa-Signature": signature, "x-chapa-signature": signature}
            self._send("webhook", urllib.request.Request(self.webhook_url, data=body,
                                                         headers=headers, method="POST"))

    def _send(self, kind: str, request: urllib.request.Request) -> None:
        record = {"kind": kind, "url": request.full_url, "status": None, "error": None}
        try:
            with urllib.request.urlopen(request, timeout=self.delivery_timeout) as response:
                record["status"] = response.status
        except urllib.error.HTTPError as exc:
            record["status"] = exc.code
        except (urllib.error.URLError, OSError) as exc:
            record["error"] = str(exc)
        log.info("%s %s -> %s", kind, record["url"], record["status"] or record["error"])
        self.deliveries.append(record)


CHECKOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chapa sandbox checkout</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto}}
button{{padding:.6rem 1.2rem;margin-right:.5rem}}</style></head>
<body><h1>Chapa sandbox checkout</h1>
<p><strong>{title}</strong><br>{description}</p>
<p>Amount: <strong>{amount} {currency}</strong><br>Reference: <code>{tx_ref}</code><br>
Status: <strong>{status}</strong></p>
<form method="post"><button name="outcome" value="success">Pay (test)</button>
<button name="outcome" value="failed">Fail payment</button></form>
<p><small>Test mode: no money moves.</small></p></body></html>
"""

RESULT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Payment {status}</title></head><body><h1>Payment {status}</h1>
<p>Reference: <code>{tx_ref}</code></p></body></html>
"""


def _handler_for(sandbox: ChapaSandbox):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ChapaSandbox/1.0"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            log.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, payload, content_type="application/json",
                  headers: dict | None = None) -> None:
            data = payload if isinstance(payload, bytes) else (
                json.dumps(payload).encode() if content_type == "application/json"
                else str(payload).encode())
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _base_url(self) -> str:
            return f"http://{self.headers.get('Host') or sandbox.url.split('//', 1)[1]}"

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:  # noqa: N802
            path = urllib.parse.urlsplit(self.path).path
            if path in ("/healthz", "/"):
                return self._send(200, {"status": "ok"})
            match = re.fullmatch(r"/v1/transaction/verify/([^/]+)/?", path)
            if match:
                if not sandbox.key_valid(self.headers.get("Authorization")):
                    return self._send(401, _failed("Invalid API Key"))
                return self._send(*sandbox.verify(urllib.parse.unquote(match[1])))
            match = re.fullmatch(r"/checkout/payment/([A-Za-z0-9]+)/?", path)
            if match:
                tx = sandbox.by_token(match[1])
                if tx is None:
                    return self._send(404, "<h1>Checkout not found</h1>", "text/html")
                page = CHECKOUT_PAGE.format(
                    title=html.escape(tx.customization.get("title") or "Payment"),
                    description=html.escape(tx.customization.get("description") or ""),
                    amount=f"{tx.amount:.2f}", currency=tx.currency,
                    tx_ref=html.escape(tx.tx_ref), status=tx.status)
                return self._send(200, page, "text/html; charset=utf-8")
            return self._send(404, _failed("Not found"))

        def do_POST(self) -> None:  # noqa: N802
            path = urllib.parse.urlsplit(self.path).path
            raw = self._read_body()
            if re.fullmatch(r"/v1/transaction/initialize/?", path):
                if not sandbox.key_valid(self.headers.get("Authorization")):
                    return self._send(401, _failed("Invalid API Key"))
                content_type = self.headers.get("Content-Type", "")
                try:
                    if "application/json" in content_type:
                        body = json.loads(raw or b"{}")
                    else:
                        body = _form_to_body(urllib.parse.parse_qs(raw.decode()))
                except (ValueError, UnicodeDecodeError):
                    return self._send(400, _failed("Invalid request body"))
                if not isinstance(body, dict):
                    return self._send(400, _failed("Invalid request body"))
                return self._send(*sandbox.initialize(body, self._base_url()))
            match = re.fullmatch(r"/checkout/payment/([A-Za-z0-9]+)/?", path)
            if match:
                tx = sandbox.by_token(match[1])
                if tx is None:
                    return self._send(404, "<h1>Checkout not found</h1>", "text/html")
                form = urllib.parse.parse_qs(raw.decode(errors="replace"))
                outcome = (form.get("outcome") or ["success"])[-1]
                if outcome not in ("success", "failed"):
                    return self._send(400, _failed("outcome must be success or failed"))
                notify = (form.get("notify") or ["1"])[-1].lower() not in ("0", "false", "no")
                tx = sandbox.complete(tx.tx_ref, outcome, notify=notify)
                if tx.return_url:
                    return self._send(302, b"", "text/html",
                                      {"Location": tx.return_url})
                return self._send(200, RESULT_PAGE.format(status=tx.status,
                                                          tx_ref=html.escape(tx.tx_ref)),
                                  "text/html; charset=utf-8")
            return self._send(404, _failed("Not found"))

    return Handler

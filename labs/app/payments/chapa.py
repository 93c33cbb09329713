"""A small client for Chapa's transaction API (https://developer.chapa.co).

The base URL comes from CHAPA_BASE_URL, so the same code talks to Chapa or to the lab's
Chapa sandbox (labs/chapa_sandbox).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import requests
from django.conf import settings


class ChapaError(Exception):
    def __init__(self, message: str, status_code: int | None = None, payload: Any = None):
        super().__init__(message)
        self.status_code = status_code
        self.payload = payload


def _request(method: str, path: str, **kwargs) -> dict:
    url = f"{settings.CHAPA_BASE_URL}{path}"
    headers = {"Authorization": f"Bearer {settings.CHAPA_SECRET_KEY}"}
    try:
        response = requests.request(method, url, headers=headers,
                                    timeout=settings.CHAPA_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ChapaError(f"Chapa unreachable: {exc}") from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not response.ok or not isinstance(payload, dict) or payload.get("status") != "success":
        message = payload.get("message") if isinstance(payload, dict) else response.text[:200]
        raise ChapaError(str(message), status_code=response.status_code, payload=payload)
    return payload


def initialize(*, amount: str, currency: str, email: str, first_name: str, last_name: str,
               tx_ref: str, callback_url: str, return_url: str | None = None,
               phone_number: str | None = None, title: str = "", description: str = "") -> str:
    """POST /v1/transaction/initialize; returns the hosted checkout URL."""
    body: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "tx_ref": tx_ref,
        "callback_url": callback_url,
        "customization": {"title": title[:16], "description": description[:50]},
    }
    if return_url:
        body["return_url"] = return_url
    if phone_number:
        body["phone_number"] = phone_number
    payload = _request("POST", "/v1/transaction/initialize", json=body)
    return payload["data"]["checkout_url"]


def verify(tx_ref: str) -> dict:
    """GET /v1/transaction/verify/<tx_ref>; returns Chapa's `data` object."""
    return _request("GET", f"/v1/transaction/verify/{tx_ref}")["data"]


def webhook_signature(body: bytes, secret: str) -> str:
    """Chapa signs webhook bodies with HMAC-SHA256 keyed by the webhook secret (hex)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_signature_valid(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """True when `x-chapa-signature` or `Chapa-Signature` is the body's HMAC.

    An empty secret never validates: without one nobody can tell Chapa from a forger.
    """
    if not secret:
        return False
    expected = webhook_signature(body, secret)
    candidates = [headers.get("x-chapa-signature"), headers.get("chapa-signature")]
    return any(c and hmac.compare_digest(c.strip().lower(), expected) for c in candidates)

"""Locust user journeys against the sample API (labs/app).

Self-contained on purpose: it imports only Locust and the standard library, so the same file
runs locally (`labs.loadtest.runner.run_local`) and inside the learner's namespace, where it is
mounted from a ConfigMap (infra/components/loadgen.py). Which journeys run is chosen by user
class names on Locust's command line (labs/loadtest/scenarios.py maps scenario names to them):

- BrowseUser: JWT login, list listings with filters, open one listing, read a conversation.
- BookUser:   JWT login, find a listing, create a booking (optionally pay through the sandbox).

The accounts are the ones `python manage.py seed` creates (userN@seed.prodev.dev, one in five a
host). Environment variables (all optional):

    LOADTEST_SEEDED_USERS  how many seeded accounts to log in as (default 50)
    LOADTEST_PASSWORD      their password (default: the seed command's)
    LOADTEST_USER_DOMAIN   their e-mail domain (default seed.prodev.dev)
    LOADTEST_PAY           "true": BookUser also initiates a Chapa payment (sandbox only)
    LOADTEST_WAIT_MIN/MAX  think time between tasks in seconds (default 0.5 / 2.0)
    LOADTEST_TOKENS        a file of JWT access tokens (JSON list): users take one instead of
                           logging in (the benchmark, so password hashing does not dominate)
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

CITIES = ["Addis Ababa", "Bahir Dar", "Gondar", "Hawassa", "Lalibela", "Mekelle", "Adama"]
SEEDED_USERS = max(2, int(os.environ.get("LOADTEST_SEEDED_USERS", "50")))
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "seed-password-123")
DOMAIN = os.environ.get("LOADTEST_USER_DOMAIN", "seed.prodev.dev")
PAY = os.environ.get("LOADTEST_PAY", "false").strip().lower() in {"1", "true", "yes", "on"}
WAIT = (float(os.environ.get("LOADTEST_WAIT_MIN", "0.5")),
        float(os.environ.get("LOADTEST_WAIT_MAX", "2.0")))
TOKENS: list[str] = (json.loads(Path(os.environ["LOADTEST_TOKENS"]).read_text())
                     if os.environ.get("LOADTEST_TOKENS") else [])


def guest_email(rng: random.Random) -> str:
    """A seeded guest account (the seed command makes every fifth account a host)."""
    while True:
        n = rng.randrange(SEEDED_USERS)
        if n % 5:
            return f"user{n}@{DOMAIN}"


class ApiUser(FastHttpUser):
    """Logs in once with a JWT and sends it on every request."""

    abstract = True
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.headers: dict[str, str] = {}
        self.listings: list[str] = []
        if TOKENS:
            self.headers = {"Authorization": f"Bearer {self.rng.choice(TOKENS)}"}
            return
        email = guest_email(self.rng)
        with self.client.post("/api/auth/token/", json={"email": email, "password": PASSWORD},
                              name="POST /api/auth/token/", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"login {email}: HTTP {resp.status_code}")
                return
            self.headers = {"Authorization": f"Bearer {resp.json()['access']}"}

    def get(self, path: str, name: str, **params):
        query = urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{path}?{query}" if query else path
        return self.client.get(url, name=name, headers=self.headers)

    def browse_listings(self) -> None:
        params = {"location": self.rng.choice(CITIES).split()[0]}
        if self.rng.random() < 0.5:
            params["max_price"] = self.rng.choice([1500, 2500, 4000])
        if self.rng.random() < 0.3:
            params["ordering"] = "price_per_night"
        resp = self.get("/api/listings/", "GET /api/listings/?filters", **params)
        if resp.status_code == 200:
            found = [row["listing_id"] for row in resp.json().get("results", [])]
            if found:
                self.listings = found


class BrowseUser(ApiUser):
    """Reads: listings with filters, one listing, the user's conversations and their messages."""

    weight = 3

    @task(4)
    def list_listings(self) -> None:
        self.browse_listings()

    @task(2)
    def listing_detail(self) -> None:
        if not self.listings:
            self.browse_listings()
        if self.listings:
            listing = self.rng.choice(self.listings)
            self.get(f"/api/listings/{listing}/", "GET /api/listings/[id]/")

    @task(2)
    def read_conversation(self) -> None:
        resp = self.get("/api/conversations/", "GET /api/conversations/")
        if resp.status_code != 200:
            return
        conversations = resp.json().get("results", [])
        if conversations:
            conversation = self.rng.choice(conversations)["conversation_id"]
            self.get(f"/api/conversations/{conversation}/messages/",
                     "GET /api/conversations/[id]/messages/")


class BookUser(ApiUser):
    """Writes: book a stay on a listing found by browsing (and pay for it when LOADTEST_PAY)."""

    weight = 1

    @task
    def book(self) -> None:
        if not self.listings:
            self.browse_listings()
        if not self.listings:
            return
        # Far-future random dates: overlaps (a 400 the rules give) are rare and not failures.
        start = date.today() + timedelta(days=self.rng.randrange(30, 20_000))
        body = {"listing": self.rng.choice(self.listings), "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=self.rng.randint(1, 3))).isoformat()}
        with self.client.post("/api/bookings/", json=body, headers=self.headers,
                              name="POST /api/bookings/", catch_response=True) as resp:
            if resp.status_code == 400 and "overlap" in (resp.text or ""):
                resp.success()
                return
            if resp.status_code != 201:
                resp.failure(f"HTTP {resp.status_code}: {(resp.text or '')[:200]}")
                return
            booking = resp.json()["booking_id"]
        if PAY:
            self.client.post("/api/payments/initiate/", json={"booking": booking},
                             headers=self.headers, name="POST /api/payments/initiate/")

    @task
    def my_bookings(self) -> None:
        self.get("/api/bookings/", "GET /api/bookings/")

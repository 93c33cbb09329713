from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

# Django loads after this module is imported (see ../conftest.py): import it inside fixtures.

APP_DIR = Path(__file__).resolve().parents[1]


# --- servers ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def lab_servers(pytestconfig):
    return pytestconfig.lab_servers


@pytest.fixture(scope="session")
def broker(lab_servers):
    """The RabbitMQ the settings point at, once it accepts connections."""
    lab_servers.wait_for_rabbitmq()
    from django.conf import settings
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=20, interval_start=0.5)
    return settings.CELERY_BROKER_URL


@pytest.fixture(scope="session")
def chapa_sandbox(lab_servers):
    if lab_servers.chapa is None:
        pytest.fail("the Chapa sandbox (labs/chapa_sandbox) is not available")
    return lab_servers.chapa


class Mailbox:
    """Mail received by the loopback SMTP server; `fail_next` refuses that many messages."""

    def __init__(self) -> None:
        self.messages: list = []
        self.fail_next = 0
        self.refused = 0
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        from email import message_from_bytes

        with self._cond:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            self.messages.append(message_from_bytes(envelope.content))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout: float = 30):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if predicate(m)]
                if found:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; yields its Mailbox."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    mailbox.host, mailbox.port = controller.hostname, controller.port
    yield mailbox
    controller.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, broker, smtp_server):
    """A real `celery worker` process (solo pool) on the test database and loopback SMTP."""
    from django.db import connection

    env = {
        **os.environ,
        "POSTGRES_DB": connection.settings_dict["NAME"],  # the test database
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "PYTHONPATH": str(APP_DIR),
    }
    log_dir = Path(tempfile.mkdtemp(prefix="celery-worker-"))
    log_path = log_dir / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--purge", "--hostname", f"tests-{os.getpid()}@localhost"],
        cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("celery worker did not start:\n"
                               + log_path.read_text(errors="replace")[-3000:])
        time.sleep(0.2)
    proc.log_path = log_path
    yield proc
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    shutil.rmtree(log_dir, ignore_errors=True)


# --- isolation -------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from core import auth

    cache.clear()
    auth.clear()
    yield
    cache.clear()
    auth.clear()


@pytest.fixture(autouse=True)
def queued_tasks(request, monkeypatch):
    """Records .delay() calls instead of publishing, except in tests marked real_celery."""
    if request.node.get_closest_marker("real_celery"):
        yield None
        return
    from listings.tasks import send_booking_confirmation
    from payments.tasks import send_payment_confirmation

    calls: list[tuple[str, tuple]] = []
    for task in (send_booking_confirmation, send_payment_confirmation):
        monkeypatch.setattr(task, "delay",
                            lambda *args, _name=task.name: calls.append((_name, args)))
    yield calls


# --- data and clients ------------------------------------------------------------------------
@pytest.fixture
def make_user(db):
    counter = iter(range(1, 1_000_000))

    from accounts.models import User

    def make(role: str = "guest", **extra):
        n = next(counter)
        extra.setdefault("email", f"{role}{n}-{os.urandom(3).hex()}@example.com")
        extra.setdefault("first_name", role.title())
        extra.setdefault("last_name", f"Number{n}")
        return User.objects.create_user(password="s3cret-pass!", role=role, **extra)

    return make


def client_for(user=None):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api():
    return client_for


@pytest.fixture
def guest(make_user):
    return make_user("guest")


@pytest.fixture
def host(make_user):
    return make_user("host")


@pytest.fixture
def listing(host):
    from listings.models import Listing

    return Listing.objects.create(host=host, title="Lake house", location="Bishoftu",
                                  price_per_night=Decimal("1500.00"))


@pytest.fixture
def booking(listing, guest):
    from listings.models import Booking

    start = date.today() + timedelta(days=10)
    return Booking.objects.create(listing=listing, guest=guest, start_date=start,
                                  end_date=start + timedelta(days=2),
                                  total_price=Decimal("3000.00"))

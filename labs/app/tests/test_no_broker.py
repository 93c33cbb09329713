"""TASK_BROKER=none: the API runs without RabbitMQ (lessons 1, 2 and 5), tasks run eagerly."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]

# Creates a booking the way the API does (booking_create queues the confirmation e-mail on
# commit) in a fresh process whose settings come from the environment given.
BOOK = """
import sys
from datetime import date, timedelta

import django

django.setup()
from celery import current_app

from accounts.models import User
from listings.models import Listing
from listings.services import booking_create

assert current_app.conf.task_always_eager, "settings did not switch Celery to eager"
start = date.today() + timedelta(days=int(sys.argv[3]))
booking = booking_create(listing=Listing.objects.get(pk=sys.argv[1]),
                         guest=User.objects.get(pk=sys.argv[2]),
                         start_date=start, end_date=start + timedelta(days=2))
print(booking.pk)
"""


def book_without_broker(listing, guest, *, days_ahead: int, email_port: int,
                        email_host: str = "127.0.0.1") -> tuple[str, str]:
    """(booking id, the process's log) of a booking made with TASK_BROKER=none."""
    from django.db import connection

    env = {
        **os.environ,
        "TASK_BROKER": "none",
        # Were the broker still used, publishing would fail: nothing listens on port 1.
        "RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": "1",
        "POSTGRES_DB": connection.settings_dict["NAME"],  # the test database
        "EMAIL_HOST": email_host, "EMAIL_PORT": str(email_port),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(APP_DIR),
    }
    done = subprocess.run([sys.executable, "-c", BOOK, str(listing.pk), str(guest.pk),
                           str(days_ahead)],
                          cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[-1], done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_broker_setting_switches_celery_to_eager(monkeypatch):
    import config.settings as module

    try:
        monkeypatch.setenv("TASK_BROKER", "none")
        reloaded = importlib.reload(module)
        assert reloaded.TASK_BROKER == "none"
        assert reloaded.CELERY_TASK_ALWAYS_EAGER is True
        assert reloaded.CELERY_TASK_EAGER_PROPAGATES is False
        assert reloaded.CELERY_BROKER_URL == "memory://"
        monkeypatch.setenv("TASK_BROKER", "rabbitmq")
        reloaded = importlib.reload(module)
        assert reloaded.CELERY_TASK_ALWAYS_EAGER is False
        assert reloaded.CELERY_BROKER_URL.startswith("amqp://")
        monkeypatch.setenv("TASK_BROKER", "redis")
        with pytest.raises(RuntimeError, match="TASK_BROKER"):
            importlib.reload(module)
    finally:
        monkeypatch.delenv("TASK_BROKER", raising=False)
        importlib.reload(module)


@pytest.mark.django_db(transaction=True)  # the other process must see the listing and guest
def test_booking_confirmation_is_sent_in_process_without_a_broker(smtp_server, guest,
                                                                  listing):
    booking_id, _ = book_without_broker(listing, guest, days_ahead=90,
                                        email_port=smtp_server.port,
                                        email_host=smtp_server.host)
    # Eager: the mail is out before booking_create returned, no worker involved.
    mails = smtp_server.wait_for(lambda m: booking_id in m.get_payload(), timeout=1)
    assert mails and mails[0]["To"] == guest.email


@pytest.mark.django_db(transaction=True)
def test_booking_succeeds_without_a_broker_or_a_mail_server(guest, listing):
    """Lessons 1 and 2 deploy no mail catcher: the failed e-mail is logged, the booking kept."""
    from listings.models import Booking

    booking_id, log = book_without_broker(listing, guest, days_ahead=120,
                                          email_port=_free_port())
    assert Booking.objects.filter(pk=booking_id).exists()
    assert "ConnectionRefusedError" in log  # the e-mail was tried, in process, and failed

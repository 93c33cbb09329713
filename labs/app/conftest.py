"""Test bootstrap: bring up the servers the settings point at, then let Django load.

Settings read the environment once, at import, so this runs in `pytest_configure` (before
pytest-django sets Django up, which it does last): for each service whose variables are not
already in the environment it starts a throwaway one on loopback (scripts/services in this
repository) and exports its variables. Given POSTGRES_HOST / RABBITMQ_HOST / CHAPA_BASE_URL
(as CI with service containers does), it uses those instead.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
REPO_ROOT = APP_DIR.parents[1]
SERVICES_DIR = REPO_ROOT / "scripts" / "services"


class LabServers:
    def __init__(self) -> None:
        self.postgres = None
        self.rabbitmq = None
        self.rabbitmq_thread: threading.Thread | None = None
        self.rabbitmq_error: BaseException | None = None
        self.chapa = None

    def wait_for_rabbitmq(self) -> None:
        if self.rabbitmq_thread is not None:
            self.rabbitmq_thread.join()
        if self.rabbitmq_error is not None:
            raise RuntimeError(f"throwaway RabbitMQ failed: {self.rabbitmq_error}")

    def stop(self) -> None:
        if self.chapa is not None:
            self.chapa.stop()
        if self.rabbitmq is not None:
            if self.rabbitmq_thread is not None:
                self.rabbitmq_thread.join()
            self.rabbitmq.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _throwaway():
    if not SERVICES_DIR.is_dir():
        raise RuntimeError("set POSTGRES_HOST/RABBITMQ_HOST: scripts/services is not here to "
                           "start throwaway servers")
    sys.path.insert(0, str(SERVICES_DIR))
    import throwaway

    return throwaway


def pytest_configure(config) -> None:
    servers = LabServers()
    config.lab_servers = servers
    os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-a-secret")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
    os.environ.setdefault("DEFAULT_FROM_EMAIL", "labs@prodev.dev")

    if "RABBITMQ_HOST" not in os.environ:
        servers.rabbitmq = _throwaway().RabbitMQ()
        os.environ.update(servers.rabbitmq.env())

        def start_rabbitmq() -> None:  # ~5-15 s: overlaps with the database setup
            try:
                servers.rabbitmq.start()
            except BaseException as exc:  # reported by the fixtures that need it
                servers.rabbitmq_error = exc

        servers.rabbitmq_thread = threading.Thread(target=start_rabbitmq, daemon=True)
        servers.rabbitmq_thread.start()

    if "POSTGRES_HOST" not in os.environ:
        servers.postgres = _throwaway().Postgres().start()
        os.environ.update(servers.postgres.env())

    if "CHAPA_BASE_URL" not in os.environ:
        if str(REPO_ROOT) not in sys.path:
            sys.path.append(str(REPO_ROOT))
        try:
            from labs.chapa_sandbox import ChapaSandbox, generate_test_key
        except ImportError:
            pass  # the payment end-to-end tests skip
        else:
            servers.chapa = ChapaSandbox(secret_key=generate_test_key(),
                                         webhook_secret="whsec-tests-" + os.urandom(8).hex())
            servers.chapa.start()
            os.environ.update({"CHAPA_BASE_URL": servers.chapa.url,
                               "CHAPA_SECRET_KEY": servers.chapa.secret_key,
                               "CHAPA_WEBHOOK_SECRET": servers.chapa.webhook_secret})

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    from django.conf import settings

    settings.DATABASES  # noqa: B018 - loads the settings now; pytest-django then sets Django up
    # Password hashing at production strength would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_unconfigure(config) -> None:
    servers = getattr(config, "lab_servers", None)
    if servers is not None:
        servers.stop()

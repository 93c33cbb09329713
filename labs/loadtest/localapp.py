"""The sample API on loopback for local load tests and the benchmark.

`LocalStack` starts throwaway Postgres and RabbitMQ servers (scripts/services/throwaway.py),
migrates and seeds the database with the app's own `seed` command; `LocalApp` runs the app
under gunicorn from the app's virtualenv (labs/app/.venv) on a free 127.0.0.1 port. Both stop
everything they started.

    with LocalStack(seed=SeedSize()) as stack, LocalApp(stack) as app:
        run_local(app.url, ...)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "labs" / "app"
APP_PYTHON = APP_DIR / ".venv" / "bin" / "python"
SERVICES_DIR = REPO_ROOT / "scripts" / "services"


def _throwaway():
    if str(SERVICES_DIR) not in sys.path:
        sys.path.insert(0, str(SERVICES_DIR))
    import throwaway

    return throwaway


def free_port() -> int:
    return _throwaway().free_port()


@dataclass(frozen=True)
class SeedSize:
    """Flags of `manage.py seed` (see labs/app/core/management/commands/seed.py)."""

    users: int = 50
    listings: int = 100
    bookings: int = 200
    conversations: int = 100
    messages: int = 20

    def args(self) -> list[str]:
        return ["--users", str(self.users), "--listings", str(self.listings),
                "--bookings", str(self.bookings), "--conversations", str(self.conversations),
                "--messages", str(self.messages)]


def app_available(rabbitmq: bool = True) -> str | None:
    """Why the app cannot run here, or None."""
    if not APP_PYTHON.exists():
        return "labs/app/.venv is missing: run scripts/install-test-deps.sh"
    try:
        _throwaway().Postgres.find_bindir()
        if rabbitmq:
            _throwaway().RabbitMQ.find_server()
    except RuntimeError as exc:
        return str(exc)
    return None


class LocalStack:
    """Throwaway Postgres (+ RabbitMQ for bookings' e-mail tasks), migrated and seeded."""

    def __init__(self, seed: SeedSize | None = SeedSize(), rabbitmq: bool = True) -> None:
        self.seed = seed
        self.with_rabbitmq = rabbitmq
        self.postgres = None
        self.rabbitmq = None

    @property
    def postgres_pid(self) -> int | None:
        """Pid at the root of the Postgres server's process tree (for CPU accounting)."""
        proc = getattr(self.postgres, "proc", None)
        return proc.pid if proc is not None else None

    def env(self) -> dict[str, str]:
        env = {
            "DJANGO_SECRET_KEY": "loadtest-only-" + "x" * 40,
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # No mail server: bookings queue their e-mail task; nothing consumes it here.
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": "1",
        }
        if self.postgres is not None:
            env |= self.postgres.env()
        if self.rabbitmq is not None:
            env |= self.rabbitmq.env()
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run([str(APP_PYTHON), "manage.py", *args], cwd=APP_DIR,
                                env={**os.environ, **self.env()}, capture_output=True,
                                text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def mint_tokens(self, count: int) -> list[str]:
        """JWT access tokens of `count` seeded guests, minted without password hashing."""
        code = (
            "import json; from accounts.models import User; "
            "from rest_framework_simplejwt.tokens import RefreshToken; "
            "users = User.objects.filter(email__endswith='@seed.prodev.dev', role='guest')"
            f".order_by('email')[:{int(count)}]; "
            "print(json.dumps([str(RefreshToken.for_user(u).access_token) for u in users]))")
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> LocalStack:
        throwaway = _throwaway()
        try:
            if self.with_rabbitmq:
                self.rabbitmq = throwaway.RabbitMQ()
            self.postgres = throwaway.Postgres().start()
            if self.rabbitmq is not None:
                self.rabbitmq.start()
            self.manage("migrate", "--noinput")
            if self.seed is not None:
                self.manage("seed", *self.seed.args())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in (self.rabbitmq, self.postgres):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        self.rabbitmq = self.postgres = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LocalApp:
    """gunicorn serving the app on 127.0.0.1:<free port> against a LocalStack.

    gunicorn reads the app's gunicorn.conf.py (it runs in the app's directory); `workers` and
    `threads` override its sizing, None keeps it.
    """

    def __init__(self, stack: LocalStack, *, workers: int | None = 2, threads: int | None = 2,
                 env: dict[str, str] | None = None, port: int | None = None,
                 app_dir: Path = APP_DIR) -> None:
        self.stack = stack
        self.app_dir = app_dir  # another tree of the app, e.g. a lesson's starter
        self.workers = workers
        self.threads = threads
        self.extra_env = env or {}
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="loadtest-gunicorn-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """gunicorn's master: its workers are its children (for CPU accounting)."""
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout: float = 60) -> LocalApp:
        argv = [str(APP_PYTHON), "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--timeout", "60", "--graceful-timeout",
                "10", "--error-logfile", "-", "--log-level", "warning"]
        if self.workers is not None:
            argv += ["--workers", str(self.workers)]
        if self.threads is not None:
            argv += ["--threads", str(self.threads)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=self.app_dir, stdout=out,
                                         stderr=subprocess.STDOUT,
                                         env={**os.environ, **self.stack.env(),
                                              **self.extra_env},
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return self
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f}s\n{tail}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> LocalApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)

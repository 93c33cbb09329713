"""The offline Postgres and RabbitMQ images keep the official images' contract: run as the
pods run them (uid 999, the same variables), they initialise, take the configured user's
password and refuse others. Needs a Docker engine (kind tier)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from infra.images import offline

pytestmark = pytest.mark.kind


def _docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:2])}: {done.stderr[-800:]}")
    return done.stdout.strip()


@pytest.fixture()
def container() -> Iterator:
    started: list[str] = []

    def run(image: str, *env: str, tmpfs: str | None = None) -> str:
        name = f"offline-image-test-{uuid.uuid4().hex[:8]}"
        args = ["run", "-d", "--name", name, "--user", "999:999"]
        for e in env:
            args += ["-e", e]
        if tmpfs:
            args += ["--tmpfs", f"{tmpfs}:uid=999,gid=999"]
        _docker(*args, image)
        started.append(name)
        return name

    yield run
    for name in started:
        _docker("rm", "-f", "-v", name, check=False)


def _until(probe, seconds: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1)


def test_postgres_initialises_from_the_official_variables(container) -> None:
    image = offline.build_postgres(lambda _: None)
    name = container(image, "POSTGRES_USER=app", "POSTGRES_PASSWORD=s3cret-pw",
                     "POSTGRES_DB=appdb", "PGDATA=/var/lib/postgresql/data/pgdata",
                     tmpfs="/var/run/postgresql")
    _until(lambda: subprocess.run(["docker", "exec", name, "pg_isready", "-U", "app", "-d",
                                   "appdb", "-h", "127.0.0.1"], capture_output=True,
                                  check=False).returncode == 0)
    ip = _docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)

    def psql(password: str) -> subprocess.CompletedProcess[str]:
        # Over TCP from another process of the container: the password is checked (scram).
        return subprocess.run(["docker", "exec", "-e", f"PGPASSWORD={password}", name, "psql",
                               "-h", ip, "-U", "app", "-d", "appdb", "-tAc",
                               "select current_user || ' ' || current_database()"],
                              capture_output=True, text=True, check=False)

    ok = psql("s3cret-pw")
    assert ok.returncode == 0 and ok.stdout.strip() == "app appdb", ok.stderr
    assert psql("wrong").returncode != 0
    assert _docker("exec", name, "id", "-u") == "999"


def test_rabbitmq_takes_its_default_user_and_management_plugin(container) -> None:
    image = offline.build_rabbitmq(lambda _: None)
    name = container(image, "RABBITMQ_DEFAULT_USER=app", "RABBITMQ_DEFAULT_PASS=s3cret-pw")
    ip = _docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)

    def whoami(user: str, password: str) -> int | dict:
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        req = urllib.request.Request(f"http://{ip}:15672/api/whoami",
                                     headers={"Authorization": f"Basic {auth}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    _until(lambda: whoami("app", "s3cret-pw") != 0, seconds=90)
    assert whoami("app", "s3cret-pw") == {"name": "app", "tags": ["administrator"],
                                          "is_internal_user": True}
    assert whoami("guest", "guest") == 401
    assert "Ping succeeded" in _docker("exec", name, "rabbitmq-diagnostics", "ping")

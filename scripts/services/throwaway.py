"""Throwaway PostgreSQL and RabbitMQ servers on loopback, for the sample app's tests.

Each server runs from Debian's packages as a plain process under a temporary directory,
on free loopback ports, and is removed again by stop(). Nothing touches the system's own
clusters or services. Use it from Python:

    with Postgres() as pg, RabbitMQ() as mq:
        os.environ.update(pg.env() | mq.env())

or from a shell (prints `export NAME=value` lines; `stop` takes the printed state dir):

    eval "$(python scripts/services/throwaway.py start postgres rabbitmq)"
    ...
    python scripts/services/throwaway.py stop "$THROWAWAY_STATE"

PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user
(`runuser -u postgres --`). RabbitMQ runs as whoever calls, with its own node name, ports,
Mnesia and log directories and its own epmd port, and takes about five seconds to start.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, timeout: float, what: str, proc: subprocess.Popen | None = None,
          log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout:.0f}s\n{tail}")


class _Server:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.base: Path | None = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _terminate(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class Postgres(_Server):
    """A PostgreSQL cluster with trust authentication for user `postgres` on 127.0.0.1."""

    user = "postgres"
    database = "postgres"

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self.bindir = self.find_bindir()

    @staticmethod
    def find_bindir() -> Path:
        env = os.environ.get("PG_BINDIR")
        candidates = [env] if env else sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        for path in reversed(candidates):
            if path and (Path(path) / "initdb").exists():
                return Path(path)
        found = shutil.which("initdb")
        if found:
            return Path(found).parent
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")

    def _as_pg(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def start(self) -> Postgres:
        self.base = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
        data = self.base / "data"
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.base, pg.pw_uid, pg.pw_gid)
        subprocess.run(
            self._as_pg([str(self.bindir / "initdb"), "-D", str(data), "-U", self.user,
                         "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.base)
        log = self.base / "postgres.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                self._as_pg([str(self.bindir / "postgres"), "-D", str(data),
                             "-p", str(self.port), "-k", str(self.base),
                             "-c", "listen_addresses=127.0.0.1",
                             "-c", "fsync=off", "-c", "synchronous_commit=off",
                             "-c", "full_page_writes=off", "-c", "max_connections=100"]),
                stdout=out, stderr=subprocess.STDOUT, cwd=self.base, start_new_session=True)
        _wait(self._ready, 30, "PostgreSQL", self.proc, log)
        return self

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", self.user, "-d", self.database, "-q"], check=False)
        return result.returncode == 0

    def stop(self) -> None:
        self._terminate(signal.SIGINT)  # "fast" shutdown
        if self.base:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def env(self) -> dict[str, str]:
        return {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.port),
                "POSTGRES_DB": self.database, "POSTGRES_USER": self.user,
                "POSTGRES_PASSWORD": ""}


class RabbitMQ(_Server):
    """A RabbitMQ node (default vhost `/`, user guest/guest) on 127.0.0.1."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.port = port or free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.nodename = f"throwaway{self.port}@localhost"
        self.server = self.find_server()

    @staticmethod
    def find_server() -> str:
        for path in ("/usr/lib/rabbitmq/bin/rabbitmq-server", shutil.which("rabbitmq-server")):
            if path and Path(path).exists():
                return path
        raise RuntimeError("rabbitmq-server not found: apt-get install rabbitmq-server")

    def _env(self) -> dict[str, str]:
        assert self.base is not None
        return {
            **os.environ,
            "HOME": str(self.base),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbit.pid"),
            # The Erlang distribution listener (RABBITMQ_DIST_PORT) binds every interface
            # unless told which one.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self) -> RabbitMQ:
        self.base = Path(tempfile.mkdtemp(prefix="throwaway-rabbitmq-"))
        (self.base / "enabled_plugins").write_text("[].\n")
        # `listeners.tcp.default = PORT` would listen on every interface (it overrides
        # RABBITMQ_NODE_IP_ADDRESS); an address:port listener stays on loopback.
        (self.base / "rabbitmq.conf").write_text(
            f"loopback_users.guest = true\nlisteners.tcp.1 = 127.0.0.1:{self.port}\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        log = self.base / "server.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([self.server], env=self._env(), stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.base,
                                         start_new_session=True)
        _wait(self._ready, 60, "RabbitMQ", self.proc, log)
        return self

    def _ready(self) -> bool:
        """True once the broker answers the AMQP 0-9-1 protocol header."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            sock.settimeout(2)
            return sock.recv(1) == b"\x01"  # a method frame: connection.start

    def stop(self) -> None:
        self._terminate(signal.SIGTERM, timeout=30)
        if self.base:
            # The node started its own epmd on ERL_EPMD_PORT; stop it too.
            epmd = shutil.which("epmd") or next(
                iter(glob.glob("/usr/lib/erlang/erts-*/bin/epmd")), None)
            if epmd:
                subprocess.run([epmd, "-kill"], env=self._env(), check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def env(self) -> dict[str, str]:
        return {"RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": str(self.port),
                "RABBITMQ_USER": "guest", "RABBITMQ_PASSWORD": "guest", "RABBITMQ_VHOST": "/"}


SERVERS = {"postgres": Postgres, "rabbitmq": RabbitMQ}


def _daemon(kind: str, state: Path) -> None:
    """Run one server until SIGTERM (the shell interface keeps servers in such processes)."""
    server = SERVERS[kind]().start()
    (state / f"{kind}.json").write_text(json.dumps(server.env()))
    stopping = False

    def handle(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        server.stop()


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "start":
        state = Path(tempfile.mkdtemp(prefix="throwaway-state-"))
        pids = {}
        for kind in argv[1:]:
            if kind not in SERVERS:
                print(f"unknown server {kind}; choose from {', '.join(SERVERS)}", file=sys.stderr)
                return 2
            with open(state / f"{kind}.err", "wb") as err:
                proc = subprocess.Popen([sys.executable, __file__, "_daemon", kind, str(state)],
                                        start_new_session=True, stdout=subprocess.DEVNULL,
                                        stderr=err)
            pids[kind] = proc.pid
        (state / "pids.json").write_text(json.dumps(pids))
        for kind in argv[1:]:
            deadline = time.monotonic() + 90
            while not (state / f"{kind}.json").exists():
                if time.monotonic() > deadline or _exited(pids[kind]):
                    print((state / f"{kind}.err").read_text()[-3000:], file=sys.stderr)
                    main(["stop", str(state)])
                    return 1
                time.sleep(0.2)
            for name, value in json.loads((state / f"{kind}.json").read_text()).items():
                print(f"export {name}='{value}'")
        print(f"export THROWAWAY_STATE='{state}'")
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        state = Path(argv[1])
        pids = json.loads((state / "pids.json").read_text()) if (state / "pids.json").exists() \
            else {}
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids.values():
            deadline = time.monotonic() + 40
            while not _exited(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        shutil.rmtree(state, ignore_errors=True)
        return 0
    if len(argv) == 3 and argv[0] == "_daemon":
        _daemon(argv[1], Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


def _exited(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == pid
    except ChildProcessError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

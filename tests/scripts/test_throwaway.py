"""scripts/services/throwaway.py: its servers listen on loopback only.

Every listening socket of the server's process group, and whatever listens on the ports it
was given (the node's own epmd runs apart), must be bound to 127.0.0.0/8 or ::1.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "scripts" / "services"
sys.path.insert(0, str(SERVICES_DIR))
import throwaway  # noqa: E402

pytestmark = pytest.mark.service

LISTEN = "0A"


def _address(hex_addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:  # /proc/net/tcp: one little-endian word
        return ipaddress.IPv4Address(raw[::-1])
    # /proc/net/tcp6: four little-endian words
    return ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def listeners() -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int, int]]:
    """(address, port, socket inode) of every listening TCP socket on this machine."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != LISTEN:
                continue
            addr, port = fields[1].split(":")
            found.append((_address(addr), int(port, 16), int(fields[9])))
    return found


def socket_inodes_of_group(pgid: int) -> set[int]:
    inodes: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return inodes


def bound_by(server: throwaway._Server, ports: set[int]) -> list[tuple]:
    assert server.proc is not None
    inodes = socket_inodes_of_group(server.proc.pid)
    return [(a, p) for a, p, inode in listeners() if inode in inodes or p in ports]


def assert_loopback_only(bound: list[tuple], must_include: set[int]) -> None:
    assert must_include <= {port for _, port in bound}, bound
    public = [(str(a), p) for a, p in bound if not a.is_loopback]
    assert public == [], f"listening beyond loopback: {public}"


def test_rabbitmq_listens_on_loopback_only() -> None:
    with throwaway.RabbitMQ() as mq:
        ports = {mq.port, mq.dist_port, mq.epmd_port}
        assert_loopback_only(bound_by(mq, ports), must_include={mq.port, mq.dist_port})


def test_postgres_listens_on_loopback_only() -> None:
    with throwaway.Postgres() as pg:
        assert_loopback_only(bound_by(pg, {pg.port}), must_include={pg.port})

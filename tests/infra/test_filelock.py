"""infra.filelock: a second process (two `lab up`s, two test sessions) waits its turn."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from infra.filelock import exclusive

HOLDER = """
import sys
from pathlib import Path
from infra.filelock import exclusive
with exclusive(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says so
"""


def test_a_second_process_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    lock = tmp_path / "cache" / "builder.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        acquired = threading.Event()

        def take() -> None:
            with exclusive(lock):
                acquired.set()

        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        assert not acquired.wait(0.5)  # still held by the other process
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert acquired.wait(30)
        waiter.join(5)
    finally:
        holder.kill()
        holder.wait()

"""Helpers of the kind-tier lab tests: the real `invoke` commands as subprocesses (bounded),
a learner's app copy holding the reference solution, and `kubectl port-forward` as a learner
runs it."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from labs.practice.app_workspace import STARTER_TAG, workspace_path
from labs.practice.starter import APP_DIR, IGNORED
from tests.infra.kind_support import KindCluster

REPO = Path(__file__).resolve().parents[2]
FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


def invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 600
           ) -> subprocess.CompletedProcess[str]:
    """`invoke <args>` from the repository root, as a user types it; wide output, so rich's
    tables keep whole words."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})
    print(f"[{time.monotonic() - started:5.0f}s] invoke {' '.join(args)} -> {done.returncode}",
          flush=True)
    return done


def invoke_all(commands: Sequence[Sequence[str]], env: dict[str, str] | None = None,
               timeout: float = 600) -> list[subprocess.CompletedProcess[str]]:
    """Several `invoke` commands at once (e.g. independent learners' `lab up`)."""
    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        return list(pool.map(lambda args: invoke(*args, env=env, timeout=timeout), commands))


def build_lab_images(cluster: KindCluster, lesson: int, learner: str, app_copy: Path) -> None:
    """Build and push, here and now, the images `lab up` of this lab will: `lab up`s run at
    once afterwards then find every image in Docker's cache and the wheels in theirs, so no
    two of them build the same thing at the same time (the wheel cache is not safe for that).
    Nothing to do on a kind cluster of upstream images."""
    from infra.automation import ClusterTarget
    from infra.images.for_lab import image_mode, roles_for
    from infra.images.offline import offline_images
    from labs.spec import build_spec

    target = ClusterTarget(cluster.kubeconfig, driver="kind")
    if image_mode(target) != "offline":
        return
    spec = build_spec({"lesson": lesson, "learner": learner})
    offline_images(roles_for(spec), spec.registry,
                   lambda m: print(f"[images] {m}", flush=True), app_copy)


def practice_root(data_home: Path, cohort: str, learner: str) -> Path:
    """default_practice_root() of a process whose XDG_DATA_HOME is `data_home`."""
    return data_home / "prodev-labs" / "practice" / f"{cohort}-{learner}"


def reference_app_copy(data_home: Path, cohort: str, learner: str, lesson: int) -> Path:
    """The learner's app copy for `lesson` (where `lab up` builds the API image from) holding
    the reference app: a learner who solved the exercise. `lab up` keeps an existing copy."""
    work = workspace_path(practice_root(data_home, cohort, learner), lesson)
    shutil.copytree(APP_DIR, work, ignore=IGNORED)
    for step in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                 ["-c", "user.name=Kind Tier", "-c", "user.email=kind@tier.invalid",
                  "commit", "--quiet", "-m", "the reference solution"], ["tag", STARTER_TAG]):
        subprocess.run(["git", "-C", str(work), *step], check=True, capture_output=True)
    return work


@contextlib.contextmanager
def port_forward(cluster: KindCluster, namespace: str, service: str, port: int,
                 timeout: float = 30) -> Iterator[str]:
    """`kubectl port-forward svc/<service> :<port>` (kubectl picks a free local port, so no
    other forward on this machine is hit); yields http://127.0.0.1:<that port>."""
    proc = subprocess.Popen([str(cluster.kit.kubectl), "--kubeconfig", str(cluster.kubeconfig),
                             "-n", namespace, "port-forward", f"svc/{service}", f":{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            line = ""
            while not (found := FORWARDING.search(line)):
                if time.monotonic() > deadline or not sel.select(deadline - time.monotonic()):
                    raise AssertionError(f"port-forward svc/{service} in {namespace}: no "
                                         f"local port within {timeout:g}s")
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    raise AssertionError(f"port-forward svc/{service} in {namespace} ended: "
                                         f"{proc.stderr.read() if proc.stderr else ''}")
        # kubectl writes a line per connection: read them, or a full pipe stalls it.
        for stream in (proc.stdout, proc.stderr):
            threading.Thread(target=stream.read, daemon=True).start()  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{found[1]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

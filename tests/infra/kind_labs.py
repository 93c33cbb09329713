"""Learners' labs on the kind tier's cluster, through the real commands a learner types.

`invoke lab up` runs as a subprocess with `--context kind-<cluster>` (the fixture's cluster,
its kubeconfig and offline images); `labs_up` brings several learners up at once and always
takes them down again, failing if a namespace is left behind.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubernetes.client.rest import ApiException

from labs.names import namespace_for
from labs.spec import DEFAULT_COHORT
from tests.infra.kind_support import KindCluster

REPO = Path(__file__).resolve().parents[2]
INVOKE = Path(sys.executable).with_name("invoke")
UP_TIMEOUT_S = 900  # lab up waits up to 10 min for readiness itself; this only stops a hang
DOWN_TIMEOUT_S = 300


def context(cluster: KindCluster) -> str:
    return f"kind-{cluster.name}"


def namespace(learner: str) -> str:
    return namespace_for(DEFAULT_COHORT, learner)


def invoke(*args: str, cwd: Path = REPO, timeout: float) -> subprocess.CompletedProcess[str]:
    """`invoke <args>` with this repository's tasks, from `cwd` (reports/ are written there)."""
    return subprocess.run([str(INVOKE), "-r", str(REPO), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _tail(text: str, n: int = 3000) -> str:
    return text[-n:]


@contextmanager
def labs_up(cluster: KindCluster, lesson: int, *learners: str) -> Iterator[dict[str, float]]:
    """`lab up --lesson N` for each learner in parallel; seconds each took. Every lab is taken
    down at the end, whatever happened, and no namespace of theirs may remain."""
    ctx = context(cluster)
    started = time.monotonic()
    procs = {name: subprocess.Popen(
        [str(INVOKE), "-r", str(REPO), "lab", "up", "--lesson", str(lesson), "--learner", name,
         "--context", ctx], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True) for name in learners}
    took: dict[str, float] = {}
    try:
        failed = []
        for name, proc in procs.items():
            try:
                out, _ = proc.communicate(timeout=max(1, UP_TIMEOUT_S
                                                      - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                failed.append(f"{name}: lab up did not finish in {UP_TIMEOUT_S} s:\n"
                              f"{_tail(out)}")
                continue
            took[name] = time.monotonic() - started
            if proc.returncode != 0:
                failed.append(f"{name}: lab up exited {proc.returncode}:\n{_tail(out)}")
        assert not failed, "\n\n".join(failed)
        print(f"lab up --lesson {lesson}: "
              + ", ".join(f"{n} {s:.0f} s" for n, s in took.items()), flush=True)
        yield took
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        problems = []
        for name in learners:
            down = invoke("lab", "down", "--lesson", str(lesson), "--learner", name,
                          "--context", ctx, timeout=DOWN_TIMEOUT_S)
            if down.returncode != 0:
                problems.append(f"{name}: lab down exited {down.returncode}:\n"
                                f"{_tail(down.stdout + down.stderr)}")
        left = [n for n in learners if _namespace_stays(cluster, namespace(n))]
        problems += [f"namespace {namespace(n)} is left" for n in left]
        assert not problems, "\n".join(problems)


def _namespace_stays(cluster: KindCluster, name: str, timeout: float = 120) -> bool:
    """Whether namespace `name` still exists after `timeout` (deletion finishes in the
    background: its pods get their grace period)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cluster.core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        if time.monotonic() > deadline:
            return True
        time.sleep(2)

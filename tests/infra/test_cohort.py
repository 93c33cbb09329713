"""e2e: a five-learner cohort in parallel; re-running converges; an interrupted run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from infra import cohort as runner
from infra.kubeconfig import admin_client
from infra.status import labelled_leftovers, workload_status
from labs.roster import load_roster
from tests.infra.e2e_support import engine_for, target_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def roster_file(tmp_path: Path, cohort: str, learners: list[str]) -> Path:
    path = tmp_path / f"{cohort}.yaml"
    path.write_text(yaml.safe_dump({
        "cohort": cohort, "lesson": 1,
        "learners": [{"id": n, "name": n.title(), "email": f"{n}@example.com"}
                     for n in learners]}))
    return path


def ready_learners(api, cohort: str) -> set[str]:
    rows = workload_status(api, cohort)
    learners = {r.learner for r in rows}
    return {name for name in learners
            if all(r.is_ready for r in rows if r.learner == name)}


def test_cohort_up_in_parallel_converges_and_comes_down_clean(sim_cluster, toolchain,
                                                              tmp_path) -> None:
    names = ["abebe", "sara", "dawit", "hanna", "yonas"]
    roster = load_roster(roster_file(tmp_path, "c5", names))
    engine, target = engine_for(toolchain, tmp_path / "state"), target_for(sim_cluster)
    seen: list[tuple[str, str]] = []
    results = runner.run("up", roster.specs(), target, engine, parallel=5,
                         on_state=lambda learner, state, _: seen.append((learner, state)))
    assert [r.ok for r in results] == [True] * 5, [r.error for r in results]
    api = admin_client(sim_cluster.kubeconfig_path)
    assert ready_learners(api, "c5") == set(names)
    assert {s for _, s in seen} == {runner.QUEUED, runner.WORKING, runner.DONE}

    again = runner.run("up", roster.specs(), target, engine, parallel=5)
    assert all(set(r.changes) == {"same"} for r in again), [r.changes for r in again]

    down = runner.run("down", roster.specs(), target, engine, parallel=5)
    assert all(r.ok for r in down)
    assert labelled_leftovers(api, "c5") == []


def test_an_interrupted_cohort_up_resumes_with_the_same_command(sim_cluster, toolchain,
                                                                tmp_path) -> None:
    names = ["ana", "ben", "cai"]
    roster = roster_file(tmp_path, "cint", names)
    env = {**os.environ, "PRODEV_LABS_STATE": str(tmp_path / "state"),
           "KUBECONFIG": str(sim_cluster.kubeconfig_path)}
    context = sim_cluster.kubeconfig_path.read_text().split("current-context:")[1].split()[0]
    command = [sys.executable, "-m", "invoke", "cohort", "up", "--roster", str(roster),
               "--parallel", "3", "--context", context]
    first = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = admin_client(sim_cluster.kubeconfig_path)
    deadline = time.monotonic() + 120
    while not workload_status(api, "cint") and time.monotonic() < deadline:
        time.sleep(0.5)  # kill it once the engine is creating objects
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert ready_learners(api, "cint") != set(names), "the run finished before the kill"

    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=400)
    assert second.returncode == 0, second.stderr[-3000:]
    assert ready_learners(api, "cint") == set(names)

    engine = engine_for(toolchain, tmp_path / "state")
    down = runner.run("down", load_roster(roster).specs(), target_for(sim_cluster), engine)
    assert all(r.ok for r in down), [r.error for r in down]
    assert labelled_leftovers(api, "cint") == []

"""e2e: a five-learner cohort in parallel; re-running converges; an interrupted run resumes;
no process a run starts outlives it (a signal stops them, the next run reaps a killed one's)."""

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
from infra import processes, reaper
from infra.automation import LearnerStack
from infra.kubeconfig import admin_client
from infra.render import render
from infra.status import labelled_leftovers, workload_status
from labs.roster import load_roster
from labs.spec import build_spec
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


def lesson_workloads(lesson: int) -> set[str]:
    spec = build_spec({"cohort": "c", "learner": "x", "lesson": lesson})
    return {o["metadata"]["name"] for o in render(spec)
            if o["kind"] in ("Deployment", "StatefulSet")}


def ready_learners(api, cohort: str, lesson: int = 1) -> set[str]:
    """Learners whose every workload of the lesson exists and is ready."""
    rows = workload_status(api, cohort)
    want = lesson_workloads(lesson)
    return {name for name in {r.learner for r in rows}
            if {r.name for r in rows if r.learner == name and r.is_ready} >= want}


def run_marked(owner_pid: int) -> list[processes.Proc]:
    """Live processes carrying the run mark of the run owned by `owner_pid`."""
    return [p for p in reaper.marked()
            if (processes.environ(p.pid, reaper.MARK) or "").startswith(f"{owner_pid}:")]


def wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


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
    # kill it (its whole process group, as a terminal's kill would) once the engine is
    # creating objects
    wait_for(lambda: workload_status(api, "cint"), 120)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert ready_learners(api, "cint") != set(names), "the run finished before the kill"
    # the providers run in process groups of their own: the kill left them running
    left = run_marked(first.pid)
    assert any(p.name == "pulumi-resource-kubernetes" for p in left), left

    second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    _, err = second.communicate(timeout=400)
    assert second.returncode == 0, err[-3000:]
    assert ready_learners(api, "cint") == set(names)
    # the second run reaped what the first left, and left nothing of its own
    assert not [p for p in left if processes.is_alive(f"{p.pid}:{p.start}")]
    assert run_marked(second.pid) == []

    engine = engine_for(toolchain, tmp_path / "state")
    down = runner.run("down", load_roster(roster).specs(), target_for(sim_cluster), engine)
    assert all(r.ok for r in down), [r.error for r in down]
    assert labelled_leftovers(api, "cint") == []


@pytest.mark.parametrize(("sig", "to_group"), [(signal.SIGTERM, False), (signal.SIGHUP, True),
                                               (signal.SIGINT, False)],
                         ids=["SIGTERM-to-the-command", "SIGHUP-to-its-group",
                              "SIGINT-to-the-command"])
def test_a_signalled_cohort_up_leaves_no_process_running(sim_cluster, toolchain, tmp_path,
                                                         sig, to_group) -> None:
    """SIGTERM to the command (a service manager), SIGHUP to its group (the terminal closed),
    SIGINT to the command alone: the run stops within seconds and none of its pulumi CLIs
    or providers outlives it. The same command then converges."""
    names = ["dan", "eve"]
    cohort = f"csig{int(sig)}"
    roster = roster_file(tmp_path, cohort, names)
    env = {**os.environ, "PRODEV_LABS_STATE": str(tmp_path / "state")}
    context = sim_cluster.kubeconfig_path.read_text().split("current-context:")[1].split()[0]
    env["KUBECONFIG"] = str(sim_cluster.kubeconfig_path)
    command = [sys.executable, "-m", "invoke", "cohort", "up", "--roster", str(roster),
               "--context", context]
    run = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: any(p.name == "pulumi-resource-kubernetes"
                                    for p in run_marked(run.pid)), 120), "no provider started"
        if to_group:
            os.killpg(run.pid, sig)
        else:
            os.kill(run.pid, sig)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode != 0
    assert wait_for(lambda: not run_marked(run.pid), 5), run_marked(run.pid)

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    api = admin_client(sim_cluster.kubeconfig_path)
    assert ready_learners(api, cohort) == set(names)
    engine = engine_for(toolchain, tmp_path / "state")
    down = runner.run("down", load_roster(roster).specs(), target_for(sim_cluster), engine)
    assert all(r.ok for r in down), [r.error for r in down]
    assert labelled_leftovers(api, cohort) == []


def test_one_learners_down_after_a_killed_cohort_up_leaves_nothing(sim_cluster, toolchain,
                                                                   tmp_path) -> None:
    """A cohort run writes state once, at the end of each update: killed in a learner's first
    update, its state records nothing, yet `lab down` for that learner still removes all."""
    roster = roster_file(tmp_path, "ckill", ["fay"])
    env = {**os.environ, "PRODEV_LABS_STATE": str(tmp_path / "state"),
           "KUBECONFIG": str(sim_cluster.kubeconfig_path)}
    context = sim_cluster.kubeconfig_path.read_text().split("current-context:")[1].split()[0]
    run = subprocess.Popen([sys.executable, "-m", "invoke", "cohort", "up", "--roster",
                            str(roster), "--context", context], cwd=ROOT, env=env,
                           start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    api = admin_client(sim_cluster.kubeconfig_path)
    assert wait_for(lambda: workload_status(api, "ckill"), 120)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert labelled_leftovers(api, "ckill")

    [spec] = load_roster(roster).specs()
    LearnerStack(spec, target_for(sim_cluster), engine_for(toolchain, tmp_path / "state")
                 ).destroy()
    assert labelled_leftovers(api, "ckill") == []

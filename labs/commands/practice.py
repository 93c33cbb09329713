"""`invoke lab ... --lesson 3`: the git lesson's lab is a practice repository on this machine.

Lesson 3 deploys nothing, so its actions never choose a cluster, start one, build the
toolchain, run Pulumi or ask Docker: `up` creates the practice clone (and its bare origin)
and prints the clone's path on stdout (so `cd "$(invoke lab up --lesson 3)"` works), `reset`
makes both afresh, `check` runs the git checks, `status` says where the clone is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rich.console import Console

from labs.commands.checks import Endpoints, check_learner
from labs.practice.git_practice import (
    ORIGIN_DIR,
    WORK_DIR,
    create_practice_repo,
    default_practice_root,
    run_git,
)
from labs.spec import LabSpec

console = Console(stderr=True)


def _say(text: str) -> None:
    # Paths are copied from here: never wrap them.
    console.print(text, soft_wrap=True, highlight=False)

# Lessons whose whole lab is local files: no namespace, cluster, Pulumi, toolchain or Docker.
LESSONS = frozenset({3})
GUIDE = "labs/lessons/03-advanced-git/README.md"


def _root(spec: LabSpec) -> Path:
    return default_practice_root(spec.cohort, spec.learner)


def _print_path(repo: Path, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"lesson": 3, "repo": str(repo),
                          "origin": str(repo.parent / ORIGIN_DIR)}, indent=2))
    else:
        print(repo)


def _up(spec: LabSpec, as_json: bool) -> int:
    try:
        repo = create_practice_repo(_root(spec))
    except FileExistsError as exc:
        _say(f"[red]error:[/] {exc}: `invoke lab reset --lesson 3` makes a fresh one")
        return 1
    _say("lesson 3 is local: no cluster, no Docker, nothing deployed")
    _say(f"practice repository: {repo}  (its bare origin: {repo.parent / ORIGIN_DIR})")
    _say(f"next: cd {repo}, follow {GUIDE}, then `invoke lab check --lesson 3` from the "
         "course repository")
    _print_path(repo, as_json)
    return 0


def _reset(spec: LabSpec, as_json: bool) -> int:
    # Only the clone and its origin: the same root holds the other lessons' app copies.
    root = _root(spec)
    for name in (WORK_DIR, ORIGIN_DIR):
        shutil.rmtree(root / name, ignore_errors=True)
    _say(f"removed the practice repository under {root}")
    return _up(spec, as_json)


def _status(spec: LabSpec, as_json: bool) -> int:
    repo = _root(spec) / WORK_DIR
    exists = (repo / ".git").is_dir()
    branch = run_git(repo, "branch", "--show-current", check=False).stdout.strip() \
        if exists else None
    if as_json:
        print(json.dumps({"lesson": 3, "repo": str(repo), "exists": exists, "branch": branch},
                         indent=2))
    elif exists:
        _say(f"practice repository {repo} (on branch {branch or '(detached HEAD)'})")
    else:
        _say(f"no practice repository at {repo}: `invoke lab up --lesson 3` creates it")
    return 0 if exists else 1


def run(action: str, spec: LabSpec, *, as_json: bool,
        endpoints: Endpoints | None = None) -> int:
    """Carry out a lab action for a local lesson; the exit code."""
    if action == "up":
        return _up(spec, as_json)
    if action == "reset":
        return _reset(spec, as_json)
    if action == "check":
        return check_learner(spec, None, as_json, endpoints)
    if action == "status":
        return _status(spec, as_json)
    if action == "down":
        _say(f"lesson 3 deploys nothing to take down; your practice repository stays under "
             f"{_root(spec)} (`invoke lab reset --lesson 3` starts it over)")
        return 0
    if action == "kubeconfig":
        _say("[red]error:[/] lesson 3 has no namespace: there is no kubeconfig to write")
        return 1
    raise ValueError(action)

"""Lesson 3 checks against real git repositories: all fail on the starter, all pass solved."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from labs.checks import CheckContext, checks_for, run_checks
from labs.checks.core import CheckResult
from labs.practice.git_practice import (
    REBASE_BRANCH,
    WIP_SUBJECT,
    create_practice_repo,
    git,
    run_git,
)
from labs.practice.solution_lesson3 import RESOLVED_APP, install_hook, release, solve

pytestmark = pytest.mark.unit


def _ctx(repo: Path) -> CheckContext:
    return CheckContext(namespace="local-ada", learner="ada", cohort="local", repo=repo)


def _by_id(repo: Path) -> dict[str, bool]:
    return {r.id: r.passed for r in run_checks(3, _ctx(repo))}


def _result(repo: Path, check_id: str) -> CheckResult:
    return next(c for c in checks_for(3) if c.id == check_id).run(_ctx(repo))


def _failed_only(repo: Path, check_id: str) -> str:
    """The detail of `check_id`, the one check that fails."""
    got = {r.id: r for r in run_checks(3, _ctx(repo))}
    assert [i for i, r in got.items() if not r.passed] == [check_id], got
    assert got[check_id].hint and not got[check_id].detail.startswith("error:")
    return got[check_id].detail


def _sha(repo: Path, subject: str, ref: str = "--all") -> str:
    return git(repo, "log", "--format=%H", f"--grep=^{subject}$", "-n", "1", ref)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    return create_practice_repo(tmp_path / "lab")


def test_practice_repo_layout(starter: Path) -> None:
    origin = starter.parent / "origin.git"
    assert git(origin, "rev-parse", "--is-bare-repository") == "true"
    assert git(starter, "branch", "--show-current") == "main"
    assert git(starter, "status", "--porcelain") == ""
    remote = git(starter, "ls-remote", "--heads", "origin")
    for branch in ("main", "feature/update-greeting", "experiment"):
        assert f"refs/heads/{branch}" in remote
    # Re-running lab up never touches existing work.
    assert create_practice_repo(starter.parent) == starter


def test_scripted_branch_conflicts(starter: Path) -> None:
    merged = run_git(starter, "merge", "feature/update-greeting", check=False)
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout + merged.stderr
    assert "<<<<<<<" in (starter / "src/app.py").read_text()


def test_every_check_fails_on_the_starter(starter: Path) -> None:
    results = run_checks(3, _ctx(starter))
    assert [r.id for r in results] == [c.id for c in checks_for(3)]
    assert len(results) == 10
    assert [r for r in results if r.passed] == []
    for r in results:
        assert r.detail and r.hint and not r.detail.startswith("error:"), r


def test_every_check_passes_after_the_solution(starter: Path) -> None:
    solve(starter)
    results = run_checks(3, _ctx(starter))
    assert [r for r in results if not r.passed] == []
    assert git(starter, "status", "--porcelain") == ""  # the hook check used a temp clone


def test_unpushed_tag_and_develop_fail(starter: Path) -> None:
    solve(starter)
    origin = starter.parent / "origin.git"
    git(origin, "tag", "-d", "v1.0.0")
    git(starter, "switch", "--quiet", "develop")
    (starter / "src" / "extra.txt").write_text("x\n")
    git(starter, "add", "src/extra.txt")
    git(starter, "commit", "--quiet", "-m", "chore: not pushed")
    got = _by_id(starter)
    assert got["git.tag"] is False
    assert got["git.develop-pushed"] is False
    assert got["git.release"] is True


def test_hook_that_refuses_everything_fails(starter: Path) -> None:
    solve(starter)
    hook = starter / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    result = {r.id: r for r in run_checks(3, _ctx(starter))}["git.pre-commit-hook"]
    assert not result.passed
    assert "also refused" in result.detail


def test_hook_not_executable_fails(starter: Path) -> None:
    hook = install_hook(starter)
    os.chmod(hook, 0o644)
    assert _by_id(starter)["git.pre-commit-hook"] is False
    hook.chmod(0o755)
    assert _by_id(starter)["git.pre-commit-hook"] is True


def test_committed_conflict_markers_fail(starter: Path) -> None:
    git(starter, "switch", "--quiet", "-c", "develop")
    run_git(starter, "merge", "feature/update-greeting", check=False)
    git(starter, "add", "src/app.py")  # markers and all
    git(starter, "commit", "--quiet", "--no-edit")
    result = {r.id: r for r in run_checks(3, _ctx(starter))}["git.conflict-resolved"]
    assert not result.passed
    assert "conflict markers" in result.detail


def test_branches_deleted_after_merging_still_pass(starter: Path) -> None:
    solve(starter)
    git(starter, "branch", "-d", "feature/implement-login", "feature/implement-signup",
        "release/1.0.0")
    assert all(_by_id(starter).values())


def test_missing_repo_reports_instead_of_raising(tmp_path: Path) -> None:
    results = run_checks(3, _ctx(tmp_path / "nowhere"))
    assert all(not r.passed and "lab up --lesson 3" in r.detail for r in results)


# --- cheats the checks must refuse, and honest variants they must accept -------------------


def test_branches_deleted_on_origin_too_still_pass(starter: Path) -> None:
    # git-flow's `feature finish` may delete the merged branch on origin as well.
    solve(starter)
    git(starter, "branch", "-D", "feature/update-greeting", "experiment")
    git(starter, "push", "--quiet", "origin", "--delete", "feature/update-greeting",
        "experiment")
    git(starter, "fetch", "--quiet", "--prune", "origin")
    assert run_git(starter, "rev-parse", "--verify", "--quiet",
                   "origin/feature/update-greeting", check=False).returncode != 0
    assert all(_by_id(starter).values())


def test_conflict_not_merged_with_the_branch_gone_names_the_commit(starter: Path) -> None:
    solve(starter, skip={"conflict", "rebase", "release"})
    conflict = _sha(starter, "feat: friendlier greeting", "origin/feature/update-greeting")
    git(starter, "push", "--quiet", "origin", "--delete", "feature/update-greeting")
    git(starter, "branch", "-D", "feature/update-greeting")
    result = _result(starter, "git.conflict-resolved")
    assert not result.passed
    assert f"git merge {conflict[:8]}" in result.detail  # a hint that can be followed


def test_cherry_picking_the_wip_commit_too_fails(starter: Path) -> None:
    solve(starter)
    git(starter, "cherry-pick", "experiment")  # the wip commit on top of the typo fix
    git(starter, "push", "--quiet", "origin", "develop")
    detail = _failed_only(starter, "git.cherry-pick")
    copy = _sha(starter, WIP_SUBJECT, "develop")
    assert f"git revert {copy[:8]}" in detail
    git(starter, "revert", "--no-edit", copy)  # what the detail says
    git(starter, "push", "--quiet", "origin", "develop")
    assert all(_by_id(starter).values())


@pytest.mark.parametrize("what", ["experiment", "experiment~1"])
def test_merging_experiment_instead_of_cherry_picking_fails(starter: Path, what: str) -> None:
    solve(starter, skip={"cherry-pick"})
    git(starter, "merge", "--quiet", "--no-ff", "--no-edit", what)
    git(starter, "push", "--quiet", "origin", "develop")
    assert "merged experiment's commits" in _failed_only(starter, "git.cherry-pick")


def test_no_cherry_pick_fails(starter: Path) -> None:
    solve(starter, skip={"cherry-pick"})
    assert "no copy of 'docs: fix typo in README'" in _failed_only(starter, "git.cherry-pick")


def test_tag_on_a_commit_without_the_release_fails(starter: Path) -> None:
    solve(starter)
    # On main and after the starting point, but before the release was merged.
    login_merge = git(starter, "log", "--merges", "--format=%H", "-n", "1",
                      "--grep=feature/implement-login", "main")
    git(starter, "tag", "-f", "-a", "v1.0.0", "-m", "Release 1.0.0", login_merge)
    git(starter, "push", "--quiet", "--force", "origin", "v1.0.0")
    assert "does not contain release/1.0.0" in _failed_only(starter, "git.tag")
    # The same, with the release branch deleted after merging (found through main's merge).
    git(starter, "branch", "-D", "release/1.0.0")
    assert "does not contain release/1.0.0" in _failed_only(starter, "git.tag")


def _branch_only(repo: Path) -> None:
    git(repo, "switch", "--quiet", "-c", REBASE_BRANCH, "feature/update-greeting")


def _merge_main(repo: Path) -> None:
    git(repo, "switch", "--quiet", "-c", REBASE_BRANCH, "feature/update-greeting")
    run_git(repo, "merge", "--no-edit", "main", check=False)
    (repo / "src/app.py").write_text(RESOLVED_APP)
    git(repo, "-c", "core.editor=true", "commit", "--quiet", "-a", "--no-edit")


def _pick_onto_main(repo: Path) -> None:
    git(repo, "switch", "--quiet", "-c", REBASE_BRANCH, "main")
    run_git(repo, "cherry-pick", "feature/update-greeting", check=False)
    (repo / "src/app.py").write_text(RESOLVED_APP)
    git(repo, "-c", "core.editor=true", "commit", "--quiet", "-a", "--no-edit")


@pytest.mark.parametrize(("cheat", "expected"), [
    (None, "no local branch try-rebase"),
    (_branch_only, "replay it onto main's start"),  # and main now holds the branch
    (_merge_main, "has merge commit"),  # a merge keeps the original commit
    (_pick_onto_main, "never rebased"),  # the same graph as a rebase; the reflog differs
], ids=["none", "not-rebased", "merge-main", "cherry-pick-onto-main"])
def test_rebase_must_be_a_rebase(starter: Path, cheat: Callable[[Path], None] | None,
                                 expected: str) -> None:
    solve(starter, skip={"rebase", "release"})
    if cheat is not None:
        cheat(starter)
        git(starter, "switch", "--quiet", "develop")
    release(starter)
    assert expected in _failed_only(starter, "git.rebase")


def test_rebase_after_the_release_is_told_where_to_replay(starter: Path) -> None:
    solve(starter, skip={"rebase"})
    git(starter, "switch", "--quiet", "-c", REBASE_BRANCH, "feature/update-greeting")
    git(starter, "rebase", "main")  # main holds the branch already: nothing to replay
    detail = _failed_only(starter, "git.rebase")
    assert "replays nothing" in detail
    for command in detail.partition("instead: ")[2].split(" && "):
        result = run_git(starter, *command.split()[1:], check=False)  # as the detail says
    assert result.returncode != 0  # the rebase conflicts, as in the guide
    (starter / "src/app.py").write_text(RESOLVED_APP)
    git(starter, "add", "src/app.py")
    git(starter, "-c", "core.editor=true", "rebase", "--continue")
    assert all(_by_id(starter).values())


def test_rebase_in_progress_or_with_markers_fails(starter: Path) -> None:
    solve(starter, skip={"rebase"})
    git(starter, "switch", "--quiet", "-c", REBASE_BRANCH, "refs/practice/update-greeting")
    assert run_git(starter, "rebase", "refs/practice/start", check=False).returncode != 0
    assert "still in progress" in _result(starter, "git.rebase").detail
    git(starter, "add", "src/app.py")  # markers and all
    git(starter, "-c", "core.editor=true", "rebase", "--continue")
    assert "conflict markers" in _result(starter, "git.rebase").detail


def test_stash_must_be_made_popped_and_committed(starter: Path) -> None:
    solve(starter, skip={"stash"})
    assert "no stash was ever made" in _failed_only(starter, "git.stash")

    git(starter, "switch", "--quiet", "develop")
    notes = starter / "docs" / "README.md"
    notes.write_text(notes.read_text() + "a stashed line\n")
    git(starter, "stash", "--quiet")
    assert "still in git stash list" in _failed_only(starter, "git.stash")
    git(starter, "stash", "pop", "--quiet")
    assert "no stashed change is committed" in _failed_only(starter, "git.stash")
    notes.write_text(notes.read_text() + "and a later edit\n")  # still carries the change
    git(starter, "commit", "--quiet", "-am", "docs: notes")
    git(starter, "push", "--quiet", "origin", "develop")
    assert all(_by_id(starter).values())

"""Reference solution of lesson 3: the git commands a learner runs, in order.

`solve(repo)` takes the practice clone from `create_practice_repo` to a state where every
lesson 3 check passes, one function per step of the guide
(labs/lessons/03-advanced-git/README.md, whose own shell blocks a test runs literally);
`solve(repo, skip={"stash"})` leaves steps out so tests can do them another way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from labs.practice.git_practice import (
    CONFLICT_BRANCH,
    CONFLICT_FILE,
    REBASE_BRANCH,
    TYPO_SUBJECT,
    git,
    run_git,
)

# A pre-commit hook refusing files added to a directory that has no README.
PRE_COMMIT_HOOK = """#!/bin/sh
# Refuse a commit that adds files to a directory without a README (README, README.md, ...).
status=0
dirs="${TMPDIR:-/tmp}/pre-commit.$$"
git diff --cached --name-only --diff-filter=A | sed -n 's|/[^/]*$||p' | sort -u > "$dirs"
while IFS= read -r dir; do
  if ! git ls-files --cached -- "$dir/README*" | grep -q .; then
    echo "pre-commit: $dir/ has no README; add $dir/README.md" >&2
    status=1
  fi
done < "$dirs"
rm -f "$dirs"
exit $status
"""

RESOLVED_APP = '''"""The practice app: prints a greeting."""

GREETING = "Hello, learners!"


def main() -> None:
    print(GREETING)


if __name__ == "__main__":
    main()
'''


def _write_commit(repo: Path, rel: str, text: str, message: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", "--", rel)
    git(repo, "commit", "--quiet", "-m", message)


def install_hook(repo: Path) -> Path:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(PRE_COMMIT_HOOK)
    hook.chmod(0o755)
    return hook


def develop(repo: Path) -> None:
    """git-flow: develop from main, pushed."""
    git(repo, "switch", "--quiet", "main")
    git(repo, "switch", "--quiet", "-c", "develop")
    git(repo, "push", "--quiet", "-u", "origin", "develop")


def features(repo: Path) -> None:
    """feature/implement-login (its scaffolding commit) and feature/implement-signup, each
    merged into develop."""
    git(repo, "switch", "--quiet", "-c", "feature/implement-login", "develop")
    _write_commit(repo, "src/login.html", "<form id=login></form>\n",
                  "feat: scaffolding login page")
    git(repo, "switch", "--quiet", "develop")
    git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "feature/implement-login")
    git(repo, "switch", "--quiet", "-c", "feature/implement-signup", "develop")
    _write_commit(repo, "src/signup.html", "<form id=signup></form>\n",
                  "feat: signup page")
    git(repo, "switch", "--quiet", "develop")
    git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "feature/implement-signup")


def conflict(repo: Path) -> None:
    """The scripted conflict: merge, resolve by hand, commit the merge."""
    git(repo, "switch", "--quiet", "develop")
    merged = run_git(repo, "merge", "--no-ff", "--no-edit", CONFLICT_BRANCH, check=False)
    if merged.returncode == 0:
        raise RuntimeError(f"expected {CONFLICT_BRANCH} to conflict, it merged cleanly")
    (repo / CONFLICT_FILE).write_text(RESOLVED_APP)
    git(repo, "add", "--", CONFLICT_FILE)
    git(repo, "commit", "--quiet", "--no-edit")


def rebase(repo: Path) -> None:
    """The same branch replayed onto main instead: a line of commits, no merge commit."""
    git(repo, "switch", "--quiet", "-c", REBASE_BRANCH, CONFLICT_BRANCH)
    if run_git(repo, "rebase", "main", check=False).returncode == 0:
        raise RuntimeError(f"expected rebasing {CONFLICT_BRANCH} onto main to conflict")
    (repo / CONFLICT_FILE).write_text(RESOLVED_APP)
    git(repo, "add", "--", CONFLICT_FILE)
    git(repo, "-c", "core.editor=true", "rebase", "--continue")
    git(repo, "switch", "--quiet", "develop")


def cherry_pick(repo: Path) -> None:
    """Only the typo fix from `experiment`, not the wip commit on top of it."""
    git(repo, "switch", "--quiet", "develop")
    typo_fix = git(repo, "log", "--format=%H", f"--grep=^{TYPO_SUBJECT}$", "experiment")
    git(repo, "cherry-pick", typo_fix)


def stash(repo: Path) -> None:
    """A change put aside to look at main, brought back and committed on develop."""
    git(repo, "switch", "--quiet", "develop")
    notes = repo / "docs" / "README.md"
    notes.write_text(notes.read_text() + "\nBranches: feature/* from develop, release/* to "
                     "main.\n")
    git(repo, "stash", "--quiet")
    git(repo, "switch", "--quiet", "main")
    git(repo, "switch", "--quiet", "develop")
    git(repo, "stash", "pop", "--quiet")
    git(repo, "commit", "--quiet", "-am", "docs: branching notes")


def release(repo: Path) -> None:
    """release/1.0.0 from develop, merged into main (tagged) and back into develop; pushed."""
    git(repo, "switch", "--quiet", "-c", "release/1.0.0", "develop")
    _write_commit(repo, "VERSION", "1.0.0\n", "chore: release 1.0.0")
    git(repo, "switch", "--quiet", "main")
    git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "release/1.0.0")
    git(repo, "tag", "-a", "v1.0.0", "-m", "Release 1.0.0")
    git(repo, "switch", "--quiet", "develop")
    git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "release/1.0.0")
    git(repo, "push", "--quiet", "origin", "main", "develop")
    git(repo, "push", "--quiet", "origin", "v1.0.0")


STEPS: dict[str, Callable[[Path], object]] = {
    "develop": develop, "features": features, "conflict": conflict, "rebase": rebase,
    "cherry-pick": cherry_pick, "stash": stash, "release": release, "hook": install_hook,
}


def solve(repo: Path, skip: Collection[str] = ()) -> None:
    unknown = set(skip) - STEPS.keys()
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; steps: {', '.join(STEPS)}")
    for name, step in STEPS.items():
        if name not in skip:
            step(Path(repo))

"""The lesson 3 practice repository: a working clone and a bare "origin", both under one root.

`create_practice_repo(root)` scripts the situations the exercise guide walks through:

- `main` has two commits: the initial layout and "fix: greeting punctuation";
- `feature/update-greeting` branched from the initial commit and changes the same line of
  `src/app.py` as main's second commit, so merging it into `develop` (or `main`) conflicts;
- `experiment` holds a typo fix worth cherry-picking ("docs: fix typo in README") and a
  throwaway commit that is not;
- `refs/practice/start` marks main's starting point, `refs/practice/update-greeting` and
  `refs/practice/experiment` the scripted branches' commits: the checks find them there even
  after the learner deletes those branches (locally and on origin).

All of it is pushed to origin, so the learner starts from a clean, in-sync clone.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ORIGIN_DIR = "origin.git"
WORK_DIR = "practice"
START_REF = "refs/practice/start"
CONFLICT_REF = "refs/practice/update-greeting"
EXPERIMENT_REF = "refs/practice/experiment"
SETUP_AUTHOR = ("Lab Setup", "lab-setup@prodev.dev")
CONFLICT_BRANCH = "feature/update-greeting"
CONFLICT_FILE = "src/app.py"
CONFLICT_SUBJECT = "feat: friendlier greeting"
START_SUBJECT = "fix: greeting punctuation"
TYPO_SUBJECT = "docs: fix typo in README"  # on experiment: worth cherry-picking
WIP_SUBJECT = "wip: try a new layout"  # on experiment, after the typo fix: not
REBASE_BRANCH = "try-rebase"  # where the learner replays feature/update-greeting onto main


class GitError(RuntimeError):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess[str]) -> None:
        self.returncode = result.returncode
        self.output = (result.stdout + result.stderr).strip()
        super().__init__(f"git {' '.join(args)} exited {result.returncode}: {self.output}")


def git_env() -> dict[str, str]:
    """The environment git runs in: no prompts, no system config, stable output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    return env


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, env=git_env(), capture_output=True,
                            text=True, timeout=60)
    if check and result.returncode != 0:
        raise GitError(list(args), result)
    return result


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd and return its stripped stdout; raise GitError on failure."""
    return run_git(cwd, *args).stdout.strip()


def _commit(repo: Path, message: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", "--", rel)
    name, email = SETUP_AUTHOR
    git(repo, "-c", f"user.name={name}", "-c", f"user.email={email}",
        "-c", "core.hooksPath=/dev/null", "commit", "--quiet", "-m", message)


def _app(greeting: str) -> str:
    return (
        '"""The practice app: prints a greeting."""\n\n'
        f'GREETING = "{greeting}"\n\n\n'
        "def main() -> None:\n"
        "    print(GREETING)\n\n\n"
        'if __name__ == "__main__":\n'
        "    main()\n"
    )


README = """# Welcom to the practice repository

Lesson 3 of the prodev backend program: git-flow, conflicts, hooks.
Follow labs/lessons/03-advanced-git/README.md.
"""


def create_practice_repo(root: Path) -> Path:
    """Create root/origin.git (bare) and root/practice (working clone); return the clone.

    An existing practice clone is returned untouched, so re-running `lab up` never destroys
    a learner's work; remove `root` to start over.
    """
    root = Path(root)
    work, origin = root / WORK_DIR, root / ORIGIN_DIR
    if (work / ".git").is_dir():
        return work
    if work.exists() or origin.exists():
        raise FileExistsError(f"{root} holds a partial practice repository; remove it first")
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", ORIGIN_DIR)
    git(root, "init", "--quiet", "--initial-branch=main", WORK_DIR)
    git(work, "remote", "add", "origin", str(origin.resolve()))

    _commit(work, "chore: initial commit", {
        "README.md": README,
        "src/README.md": "# src\n\nThe practice app.\n",
        "src/app.py": _app("Hello"),
        "docs/README.md": "# docs\n\nNotes about the practice app.\n",
        ".gitignore": "__pycache__/\n*.pyc\n",
    })

    git(work, "switch", "--quiet", "-c", CONFLICT_BRANCH)
    _commit(work, CONFLICT_SUBJECT, {CONFLICT_FILE: _app("Hello, learners")})

    git(work, "switch", "--quiet", "main")
    _commit(work, START_SUBJECT, {CONFLICT_FILE: _app("Hello!")})

    git(work, "switch", "--quiet", "-c", "experiment")
    _commit(work, TYPO_SUBJECT, {"README.md": README.replace("Welcom ", "Welcome ")})
    _commit(work, WIP_SUBJECT, {"layout.txt": "an idea that did not work out\n"})
    git(work, "switch", "--quiet", "main")

    for ref, branch in ((START_REF, "main"), (CONFLICT_REF, CONFLICT_BRANCH),
                        (EXPERIMENT_REF, "experiment")):
        git(work, "update-ref", ref, branch)
    git(work, "push", "--quiet", "origin", "main", CONFLICT_BRANCH, "experiment")
    git(work, "branch", "--quiet", "--set-upstream-to=origin/main", "main")
    git(work, "fetch", "--quiet", "origin")
    # Commits need an identity; give the clone one only when the learner has none.
    if run_git(work, "config", "user.email", check=False).returncode != 0:
        git(work, "config", "user.name", "Practice Learner")
        git(work, "config", "user.email", "learner@practice.invalid")
    return work


def default_practice_root(cohort: str, learner: str) -> Path:
    """Where `lab up --lesson 3` keeps a learner's practice repository and its origin."""
    from platformdirs import user_data_path

    return user_data_path("prodev-labs") / "practice" / f"{cohort}-{learner}"

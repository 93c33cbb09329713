"""A learner's own copy of the sample app for a lesson, as a git working tree.

`lab up --lesson N` (for lessons whose exercise is code) writes the lesson's starter app
(labs/practice/starter.py) to `<practice root>/lesson-N/app` and commits it, so the learner
can diff against the starting point (`git diff starter`) and the lab can build their image
from it. An existing workspace is never overwritten: the learner's work stays.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labs.practice.git_practice import SETUP_AUTHOR, git, run_git
from labs.practice.starter import write_starter

# Lessons whose exercise is changing the app (or its pipeline), so they get a workspace.
CODE_LESSONS = (1, 2, 5, 6, 7, 8)
STARTER_TAG = "starter"


def workspace_path(root: Path, lesson: int) -> Path:
    return Path(root) / f"lesson-{lesson}" / "app"


def create_app_workspace(root: Path, lesson: int) -> Path:
    """Create (once) and return the lesson's app working tree under `root`."""
    work = workspace_path(root, lesson)
    if (work / ".git").is_dir():
        return work
    if work.exists():
        raise FileExistsError(f"{work} exists but is not a git working tree; move it away "
                              "and run `invoke lab up` again")
    staging = work.with_name(work.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted run
    staging.parent.mkdir(parents=True, exist_ok=True)
    write_starter(lesson, staging)
    git(staging, "init", "--quiet", "--initial-branch=main")
    git(staging, "add", "--all")
    name, email = SETUP_AUTHOR
    git(staging, "-c", f"user.name={name}", "-c", f"user.email={email}",
        "-c", "core.hooksPath=/dev/null", "commit", "--quiet",
        "-m", f"chore: lesson {lesson} starter")
    git(staging, "tag", STARTER_TAG)
    if run_git(staging, "config", "user.email", check=False).returncode != 0:
        git(staging, "config", "user.name", "Practice Learner")
        git(staging, "config", "user.email", "learner@practice.invalid")
    staging.rename(work)  # the workspace appears whole or not at all
    return work

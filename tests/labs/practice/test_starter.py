"""Starter trees generated from the reference app's solution regions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from labs.practice.app_workspace import STARTER_TAG, create_app_workspace, workspace_path
from labs.practice.git_practice import git
from labs.practice.starter import APP_DIR, StarterError, regions, transform, write_starter

pytestmark = pytest.mark.unit

REGION = """def f():
    # BEGIN SOLUTION lesson 2
    return 42
    # STARTER
    # return 0  # TODO
    # END SOLUTION
"""


def test_the_lessons_region_becomes_its_starter_and_others_keep_the_solution() -> None:
    assert transform(REGION, 2) == "def f():\n    return 0  # TODO\n"
    assert transform(REGION, 1) == "def f():\n    return 42\n"
    assert transform(REGION, None) == "def f():\n    return 42\n"


@pytest.mark.parametrize(("text", "problem"), [
    ("# BEGIN SOLUTION lesson 1\nx = 1\n", "has no END SOLUTION"),
    ("x = 1\n# END SOLUTION\n", "END SOLUTION without BEGIN"),
    ("# STARTER\n", "outside a solution region"),
    ("# BEGIN SOLUTION lesson 1\n# BEGIN SOLUTION lesson 2\n", "inside the region opened"),
    ("    # BEGIN SOLUTION lesson 1\n    x = 1\n    # STARTER\nx = 0\n    # END SOLUTION\n",
     "must be a comment"),
])
def test_malformed_regions_name_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(StarterError, match=problem) as err:
        transform(text, 1, "views.py")
    assert str(err.value).startswith("views.py:")


def test_every_lesson_starter_of_the_app_is_valid_python_without_markers() -> None:
    lessons = {r.lesson for r in regions()}
    assert lessons == {1, 2, 6, 7, 8}
    for lesson in sorted(lessons):
        for path in APP_DIR.rglob("*.py"):
            if ".venv" in path.parts:
                continue
            text = transform(path.read_text(), lesson, str(path))
            ast.parse(text, str(path))
            assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text


def test_write_starter_changes_only_that_lessons_regions(tmp_path: Path) -> None:
    dest = write_starter(2, tmp_path / "app")
    assert not (dest / ".venv").exists()
    changed = sorted(str(p.relative_to(dest)) for p in dest.rglob("*.py")
                     if p.read_text() != transform((APP_DIR / p.relative_to(dest)).read_text(),
                                                   None))
    assert changed == sorted({str(r.path.relative_to(APP_DIR)) for r in regions()
                              if r.lesson == 2})
    with pytest.raises(FileExistsError):
        write_starter(2, dest)


def test_lesson5_overlay_replaces_the_pipeline(tmp_path: Path) -> None:
    dest = write_starter(5, tmp_path / "app")
    overlay = Path(__file__).resolve().parents[3] / "labs/lessons/05-ci-cd/starter"
    assert (dest / "Jenkinsfile").read_text() == (overlay / "Jenkinsfile").read_text()
    assert (APP_DIR / ".github" / "workflows").is_dir()
    assert not (dest / ".github").exists()


def test_workspace_is_created_once_and_kept(tmp_path: Path) -> None:
    work = create_app_workspace(tmp_path, 1)
    assert work == workspace_path(tmp_path, 1)
    assert git(work, "status", "--porcelain") == ""
    assert git(work, "rev-parse", STARTER_TAG) == git(work, "rev-parse", "HEAD")
    (work / "chats" / "permissions.py").write_text("# the learner's work\n")
    assert create_app_workspace(tmp_path, 1) == work
    assert (work / "chats" / "permissions.py").read_text() == "# the learner's work\n"
    assert not work.with_name("app.partial").exists()

"""The reference solution of a code lesson, written over that lesson's starter copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from labs.practice.solution_app import solve_app
from labs.practice.starter import APP_DIR, transform, write_starter


def _differences(a: Path, b: Path) -> set[Path]:
    files = {p.relative_to(a) for p in a.rglob("*.py")} | {p.relative_to(b)
                                                             for p in b.rglob("*.py")}
    return {f for f in files if not (a / f).is_file() or not (b / f).is_file()
            or (a / f).read_text() != (b / f).read_text()}


def test_solving_lesson_1_leaves_its_starter_equal_to_the_reference(tmp_path: Path) -> None:
    starter = write_starter(1, tmp_path / "starter")
    reference = write_starter(1, tmp_path / "reference")
    for path in APP_DIR.rglob("*.py"):  # the reference: every region resolved to its solution
        if ".venv" not in path.parts and (reference / path.relative_to(APP_DIR)).exists():
            (reference / path.relative_to(APP_DIR)).write_text(transform(path.read_text(), None))
    assert _differences(starter, reference)  # the starter is not solved yet
    written = solve_app(1, starter)
    assert Path("crm/schema.py") in written
    assert _differences(starter, reference) == set()


def test_a_lesson_whose_starter_replaces_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lesson 5"):
        solve_app(5, tmp_path)

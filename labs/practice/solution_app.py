"""Reference solution of a code lesson, written into a learner's app copy.

The reference app (labs/app) is every lesson's solution; a learner's copy (app_workspace.py)
is its starter. Solving lesson N is writing the reference's version of each file holding a
lesson-N solution region over the copy: what a learner who did the whole exercise ends with.
"""

from __future__ import annotations

from pathlib import Path

from labs.practice.starter import APP_DIR, lesson_dir, regions, transform


def solve_app(lesson: int, work: Path, source: Path = APP_DIR) -> list[Path]:
    """Write the solution of `lesson` into the app copy `work`; the files written (relative)."""
    if (lesson_dir(lesson) / "starter").is_dir():
        # An overlay replaces whole files (e.g. lesson 5's pipeline): not a region to resolve.
        raise ValueError(f"lesson {lesson}'s starter overlays files; solve it by hand")
    written: list[Path] = []
    for path in sorted({r.path for r in regions(source) if r.lesson == lesson}):
        rel = path.relative_to(source)
        (work / rel).write_text(transform(path.read_text(), None, str(path)))
        written.append(rel)
    if not written:
        raise ValueError(f"lesson {lesson} has no solution regions in {source}")
    return written

"""A lesson's starter state of the sample app, generated from the reference app.

The reference app (labs/app) is the solution of every lesson. Code a lesson asks learners to
write sits between solution markers (the convention of nbgrader's `### BEGIN SOLUTION`), with
the starter's version of it commented out below `# STARTER`:

    # BEGIN SOLUTION lesson 2
    return queryset.select_related("sender")
    # STARTER
    # return queryset
    # END SOLUTION

The starter of lesson N drops lesson N's solution lines and uncomments its starter lines;
other lessons' regions keep their solution. Marker lines never reach a generated tree. Files
under `labs/lessons/<NN-name>/starter/` are then laid over the tree (e.g. lesson 5's starter
Jenkinsfile), and paths listed in its `starter/.remove` file are deleted from it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from labs.catalog import LESSONS_DIR

APP_DIR = Path(__file__).resolve().parents[1] / "app"
# Not part of a learner's copy: local environments, caches and build output.
IGNORED = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".ruff_cache",
                                 "staticfiles", "*.pyc")
BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION lesson (?P<lesson>\d+)\s*$")
STARTER = re.compile(r"^\s*# STARTER\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
REMOVE_LIST = ".remove"


class StarterError(ValueError):
    """A solution region is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Region:
    path: Path
    lesson: int
    begin: int  # 1-based line numbers of the markers
    end: int


def _uncomment(line: str, indent: str, where: str) -> str:
    if not line.strip():
        return line
    if not line.startswith(indent + "#"):
        raise StarterError(f"{where}: a starter line must be a comment at the marker's "
                           f"indentation: {line.rstrip()!r}")
    body = line[len(indent) + 1:]
    return indent + (body[1:] if body.startswith(" ") else body)


def transform(text: str, lesson: int | None, where: str = "<text>") -> str:
    """`text` with every region resolved: lesson `lesson` to its starter, others to solution.

    lesson=None resolves every region to its solution (the reference without markers).
    """
    out: list[str] = []
    state = "outside"  # outside | solution | starter
    current = 0
    indent = ""
    began = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        at = f"{where}:{number}"
        if match := BEGIN.match(line):
            if state != "outside":
                raise StarterError(f"{at}: BEGIN SOLUTION inside the region opened at line "
                                   f"{began}")
            state, current, indent, began = "solution", int(match["lesson"]), match["indent"], \
                number
            continue
        if STARTER.match(line):
            if state != "solution":
                raise StarterError(f"{at}: # STARTER outside a solution region")
            state = "starter"
            continue
        if END.match(line):
            if state == "outside":
                raise StarterError(f"{at}: END SOLUTION without BEGIN SOLUTION")
            state = "outside"
            continue
        mine = current == lesson
        if state == "outside" or (state == "solution" and not mine):
            out.append(line)
        elif state == "starter" and mine:
            out.append(_uncomment(line, indent, at))
    if state != "outside":
        raise StarterError(f"{where}:{began}: the region opened here has no END SOLUTION")
    return "".join(out)


def regions(root: Path = APP_DIR) -> list[Region]:
    """Every solution region of the app's Python files (to list which lessons have code)."""
    found: list[Region] = []
    for path in sorted(_python_files(root)):
        begin: tuple[int, int] | None = None
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if match := BEGIN.match(line):
                begin = (number, int(match["lesson"]))
            elif END.match(line) and begin is not None:
                found.append(Region(path, begin[1], begin[0], number))
                begin = None
    return found


def _python_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.py")
            if not {".venv", "__pycache__"} & set(p.relative_to(root).parts)]


def lesson_dir(lesson: int) -> Path:
    matches = sorted(LESSONS_DIR.glob(f"{lesson:02d}-*"))
    if not matches:
        raise StarterError(f"no lesson directory for lesson {lesson} under {LESSONS_DIR}")
    return matches[0]


def write_starter(lesson: int, dest: Path, source: Path = APP_DIR) -> Path:
    """Write lesson `lesson`'s starter app into `dest` (which must not exist yet)."""
    if dest.exists():
        raise FileExistsError(f"{dest} already exists")
    # Check every file before writing any, so a malformed region leaves nothing behind.
    resolved = {p.relative_to(source): transform(p.read_text(), lesson, str(p))
                for p in _python_files(source)}
    shutil.copytree(source, dest, ignore=IGNORED)
    for rel, text in resolved.items():
        (dest / rel).write_text(text)
    overlay = lesson_dir(lesson) / "starter"
    if overlay.is_dir():
        removals = overlay / REMOVE_LIST
        if removals.exists():
            for rel in removals.read_text().split():
                target = dest / rel
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
        shutil.copytree(overlay, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(REMOVE_LIST))
    return dest

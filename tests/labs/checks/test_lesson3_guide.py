"""The lesson 3 guide, followed word for word, passes every check.

The test reads labs/lessons/03-advanced-git/README.md and runs its fenced `sh` blocks in order,
in one bash session, exactly as written: `invoke lab up --lesson 3` makes the practice clone
(the real command, with no cluster or toolchain to be had) and the last block runs `invoke lab
check --lesson 3`. A command commented `# fails` must fail, every other must succeed; the
session stops at the first that does not. The guide's **By hand** paragraphs (editor work) are
done by a small script called at the same point, so guide and test cannot drift apart.

The session starts in a scratch "course repository" holding only a link to tasks.py: invoke
runs the real tasks, and a guide gone wrong can never run git in this repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from labs.checks import CheckContext, checks_for, run_checks
from labs.practice.git_practice import default_practice_root

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "labs" / "lessons" / "03-advanced-git" / "README.md"
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>\w*)\s*$")
EXPECT_FAILURE = re.compile(r"\s#\s*fails\b")
# What each By hand paragraph asks, recognised by what it names, and how the test does it.
BY_HAND = {
    "resolve": "src/app.py",
    "hook": ".git/hooks/pre-commit",
}
BY_HAND_SCRIPT = '''\
import sys
from pathlib import Path

from labs.practice.solution_lesson3 import PRE_COMMIT_HOOK, RESOLVED_APP

action = sys.argv[1]
if action == "resolve":  # keep one GREETING line, drop the markers
    app = Path("src/app.py")
    assert "<<<<<<<" in app.read_text(), "the guide promised a conflict in src/app.py"
    app.write_text(RESOLVED_APP)
elif action == "hook":  # written, not yet executable: the guide's block does chmod +x
    hook = Path(".git/hooks/pre-commit")
    hook.write_text(PRE_COMMIT_HOOK)
    hook.chmod(0o644)
else:
    raise SystemExit(f"unknown by-hand action {action}")
'''


@dataclass(frozen=True)
class Command:
    line: str
    should_fail: bool


@dataclass(frozen=True)
class ByHand:
    action: str


def guide_steps(text: str) -> list[Command | ByHand]:
    """The guide's shell commands and By hand edits, in document order."""
    steps: list[Command | ByHand] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence and fence["lang"]:
            body = []
            i += 1
            while not FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            if fence["lang"] == "sh":
                for line in textwrap.dedent("\n".join(body)).splitlines():
                    if line.strip():
                        steps.append(Command(line, bool(EXPECT_FAILURE.search(line))))
        elif "**By hand:**" in lines[i]:
            paragraph = " ".join(lines[i:i + 4])
            found = [a for a, names in BY_HAND.items() if names in paragraph]
            assert len(found) == 1, f"a By hand step the test does not know: {lines[i]}"
            steps.append(ByHand(found[0]))
        i += 1
    return steps


def test_the_guide_parses_into_commands_and_edits() -> None:
    steps = guide_steps(GUIDE.read_text())
    assert [s.action for s in steps if isinstance(s, ByHand)] == ["resolve", "resolve", "hook"]
    commands = [s for s in steps if isinstance(s, Command)]
    assert commands[1].line.startswith("practice=$(invoke lab up --lesson 3)")
    assert commands[-1].line == 'cd "$course" && invoke lab check --lesson 3'
    assert sum(c.should_fail for c in commands) == 3  # merge, rebase, the refused commit


def _script(steps: list[Command | ByHand], status: Path, by_hand: Path) -> str:
    """The session: each step, its exit status recorded; stop at the first unexpected one."""
    out = []
    for n, step in enumerate(steps):
        if isinstance(step, ByHand):
            out.append(f'"$PYTHON" {by_hand} {step.action}')
        else:
            out.append(step.line)
        ok = "-ne" if isinstance(step, Command) and step.should_fail else "-eq"
        out.append(f'rc=$?; echo "{n} $rc" >> {status}; [ "$rc" {ok} 0 ] || exit 90')
    return "\n".join(out) + "\n"


def test_following_the_guide_literally_passes_every_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = guide_steps(GUIDE.read_text())
    status, by_hand = tmp_path / "status", tmp_path / "by_hand.py"
    by_hand.write_text(BY_HAND_SCRIPT)
    course = tmp_path / "course"
    course.mkdir()
    (course / "tasks.py").symlink_to(ROOT / "tasks.py")
    (tmp_path / "cache").write_text("a file: any toolchain build would fail at once\n")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),  # no global git identity or config
        "USER": "ada", "LOGNAME": "ada", "LANG": "C.UTF-8",
        "XDG_DATA_HOME": str(tmp_path / "data"),  # where lab up puts the practice repository
        "PRODEV_LABS_STATE": str(tmp_path / "state"),
        "PRODEV_LABS_CACHE": str(tmp_path / "cache"),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "GIT_EDITOR": "true",  # the learner saves the message the editor opens with
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CEILING_DIRECTORIES": str(tmp_path),
        "PYTHON": sys.executable, "PYTHONPATH": str(ROOT),
    }
    (tmp_path / "home").mkdir()
    run = subprocess.run(["bash", "-c", _script(steps, status, by_hand)], cwd=course, env=env,
                         capture_output=True, text=True, timeout=600)
    log = (run.stdout + run.stderr)[-6000:]
    codes = [line.split()[1] for line in status.read_text().splitlines()]
    if len(codes) < len(steps) or run.returncode != 0:
        step = steps[len(codes) - 1] if codes else steps[0]
        pytest.fail(f"the guide's step {step} exited {codes[-1] if codes else '?'}:\n{log}")

    monkeypatch.setenv("XDG_DATA_HOME", env["XDG_DATA_HOME"])
    repo = default_practice_root("local", "ada") / "practice"
    results = run_checks(3, CheckContext(namespace="local-ada", learner="ada", cohort="local",
                                         repo=repo))
    assert len(results) == len(checks_for(3)) == 10
    assert [r for r in results if not r.passed] == []
    assert "✔" in run.stderr and "✘" not in run.stderr  # lab check's own table

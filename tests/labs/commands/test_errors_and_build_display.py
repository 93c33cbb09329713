"""A failing command ends in one clear line; a first build shows what it builds and how far.

The build path is real (infra.cluster.toolchain.build_go), driven by a stand-in `go` that
answers like the real one: `go list -deps` names packages, `go build -v` prints each one it
compiles on stderr.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from invoke import Exit
from rich.console import Console

from infra.cluster import toolchain as tc
from labs.commands.build_display import BuildBar
from labs.commands.errors import friendly_errors

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]

FAKE_GO = """#!/bin/sh
# A stand-in for `go`: enough of mod tidy, list -deps and build -v for the build path.
case "$1" in
  mod) exit 0 ;;
  list) printf 'fmt\\nos\\nexample.com/a\\nexample.com/cmd/tool\\n'; exit 0 ;;
  build)
    out=""; while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
    [ -n "$FAIL_BUILD" ] && { echo "cmd/tool: undefined: Boom" >&2; exit 1; }
    for p in fmt os example.com/a example.com/cmd/tool; do echo "$p" >&2; done
    printf '#!/bin/sh\\n' > "$out"; chmod +x "$out"; exit 0 ;;
esac
exit 3
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    go = tmp_path / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PRODEV_LABS_GO", str(go))
    return go


class Recorder:
    def __init__(self) -> None:
        self.planned: list[tc.PlannedStep] = []
        self.updates: list[tuple[str, float]] = []
        self.finished: list[str] = []

    def plan(self, steps):  # noqa: ANN001
        self.planned = list(steps)

    def update(self, key: str, fraction: float, note: str) -> None:
        self.updates.append((key, fraction))

    def finish(self, key: str, seconds: float, cached: bool) -> None:
        self.finished.append(key)


BUILD = tc.GoBuild(name="tool", version="1.0.0", gomod="module x\n",
                   packages=(("example.com/cmd/tool", "tool"),))


def test_build_progress_counts_compiled_packages(fake_go: Path, tmp_path: Path) -> None:
    meter = Recorder()
    bin_dir = tc.build_go(BUILD, root=tmp_path / "cache", meter=meter)
    assert (bin_dir / "tool").is_file()
    fractions = [f for k, f in meter.updates if k == "tool"]
    assert fractions == sorted(fractions) and len(fractions) == 4
    assert fractions[0] == pytest.approx(0.25) and fractions[-1] == pytest.approx(0.99)
    # built once: a second call is a stamp check and reports nothing
    meter2 = Recorder()
    tc.build_go(BUILD, root=tmp_path / "cache", meter=meter2)
    assert meter2.updates == []


def test_a_failed_build_names_the_step_and_log_on_its_first_line(
        fake_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIL_BUILD", "1")
    with pytest.raises(tc.ToolchainError) as err:
        tc.build_go(BUILD, root=tmp_path / "cache")
    first = str(err.value).splitlines()[0]
    assert "go build" in first and "tool-1.0.0.log" in first and "run the same command" in first
    assert "undefined: Boom" in str(err.value)  # the log's tail follows, for the details
    assert not tc.is_built(BUILD, tmp_path / "cache")


def test_build_bar_says_first_run_and_estimates_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False)
    with BuildBar(console, "the offline toolchain") as bar:
        bar.plan([tc.PlannedStep("etcd", 60, cached=True),
                  tc.PlannedStep("pulumi", 600, cached=False),
                  tc.PlannedStep("kubernetes", 600, cached=False)])
        assert bar.seconds_left() == pytest.approx(1200, rel=0.01)
        bar.update("pulumi", 0.5, "github.com/pulumi/pulumi/pkg/v3/engine")
        assert bar.expected_done() == (300, 1200)
        bar.finish("pulumi", 550, cached=False)
        bar.update("kubernetes", 0.25, "k8s.io/apiserver")
        assert bar.expected_done() == (750, 1200)
    text = out.getvalue()
    assert "First run" in text and "pulumi, kubernetes" in text and "etcd" not in text.split(
        "First run")[1].split(".")[0]
    assert "about 20 min" in text
    assert "pulumi: built in 550 s" in text


def test_all_cached_prints_no_first_run_note() -> None:
    out = io.StringIO()
    with BuildBar(Console(file=out, width=120), "x") as bar:
        bar.plan([tc.PlannedStep("etcd", 60, cached=True)])
    assert "First run" not in out.getvalue()


@pytest.mark.parametrize(("raised", "code", "expected"), [
    (tc.ToolchainError("`go build ...` failed (exit 1): see /x.log; run again\ntail line"), 1,
     "error: `go build ...` failed (exit 1): see /x.log; run again (details: "),
    (KeyboardInterrupt(), 130, "interrupted: "),
])
def test_task_errors_become_one_line(raised: BaseException, code: int, expected: str,
                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path))

    @friendly_errors
    def body(c, lesson=None):  # noqa: ANN001, ANN202
        raise raised

    with pytest.raises(Exit) as exit_:
        body(None, lesson=4)
    assert exit_.value.code == code
    message = str(exit_.value.message)
    assert message.startswith(expected) and "\n" not in message


def test_an_unexpected_error_is_one_line_with_the_traceback_in_a_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path))

    @friendly_errors
    def body(c):  # noqa: ANN001, ANN202
        return {}["missing"]

    with pytest.raises(Exit) as exit_:
        body(None)
    message = str(exit_.value.message)
    assert "\n" not in message and "KeyError" in message
    log = tmp_path / "logs" / "last-error.log"
    assert str(log) in message
    assert "Traceback" in log.read_text() and "missing" in log.read_text()


def test_lab_up_whose_toolchain_cannot_build_ends_in_one_line(fake_go: Path,
                                                              tmp_path: Path) -> None:
    """The README's main command on a machine where the build fails: no traceback."""
    env = {**os.environ, "PRODEV_LABS_CACHE": str(tmp_path / "cache"),
           "PRODEV_LABS_STATE": str(tmp_path / "state"), "FAIL_BUILD": "1",
           "PRODEV_LABS_GO": str(fake_go), "PATH": f"{fake_go.parent}:{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "invoke", "lab", "up", "--lesson", "4",
                           "--learner", "newcomer"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "First run" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: `go build ...` failed"), proc.stderr[-2000:]
    assert "run the same command again" in last

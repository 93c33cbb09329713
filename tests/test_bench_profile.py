"""The cohort profile names each pulumi CLI call by its subcommand and accounts its CPU."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from bench.profile import Ledger, cli_label

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("argv", "label"), [
    (["pulumi", "--non-interactive", "stack", "select", "--stack", "c-a"], "stack select"),
    (["pulumi", "--non-interactive", "config", "--show-secrets", "--json"], "config"),
    (["pulumi", "--non-interactive", "config", "set-all", "--plaintext", "a:b=c"],
     "config set-all"),
    (["pulumi", "--non-interactive", "up", "--yes", "--client=127.0.0.1:1"], "up"),
    (["pulumi", "--non-interactive", "stack", "output", "--json", "--show-secrets"],
     "stack output --show-secrets"),
    (["pulumi", "version"], "version"),
])
def test_a_cli_call_is_named_by_its_subcommand(argv: list[str], label: str) -> None:
    assert cli_label(argv) == label


def test_every_cli_call_of_the_automation_api_is_accounted(tmp_path: Path) -> None:
    """A stand-in CLI that burns CPU: the Ledger sees each call, by label, with its CPU."""
    from pulumi.automation import _cmd

    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, time
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        print("v3.274.1" if sys.argv[1:] == ["version"] else "{{}}")
        """))
    fake.chmod(0o755)
    with Ledger() as ledger:
        command = _cmd.PulumiCommand(root=str(tmp_path), skip_version_check=True)
        command.run(["stack", "init", "x"], str(tmp_path), {})
    report = ledger.report(learners=1)
    rows = {r["command"]: r for r in report["cli"]}
    assert set(rows) == {"pulumi version", "pulumi stack init"}
    assert all(0.15 < r["cpu_per_call"] < 2 for r in rows.values()), rows
    assert report["client_cpu_per_learner"] >= 0.4

"""prodev-labs command line: `invoke --list` shows every task, `invoke --help TASK` explains one.

Thin task functions only: parsing flags and printing. The work lives in infra/ and labs/.
Each task takes its action as the first word, as in `invoke lab up --lesson 4`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import Collection, Exit, task

from labs.catalog import CatalogError
from labs.spec import SpecError

LAB_ACTIONS = ("render", "list")


def _fail(exc: Exception) -> Exit:
    return Exit(f"error: {exc}", code=2)


# --- lab: one learner's environment -------------------------------------------------------
@task(
    positional=["action"],
    help={
        "action": f"one of: {', '.join(LAB_ACTIONS)}",
        "lesson": "lesson number 1-8 (`invoke lab list` shows them)",
        "learner": "learner name (DNS-1123); defaults to your login name, sanitised",
        "cohort": "cohort name; the namespace is <cohort>-<learner> (default: local)",
        "out": "render: also write <namespace>.yaml into this directory",
        "profile": "sizing profile instead of the lesson's (small, standard, large)",
        "ci_runner": "jenkins or github-actions (lesson 5)",
        "github_repo": "https://github.com/OWNER/REPO the CI runner builds",
    },
)
def lab(c, action, lesson=None, learner=None, cohort=None, out=None, profile=None,
        ci_runner=None, github_repo=None):
    """One learner's lab environment.

    render  print every Kubernetes object of the environment as YAML, without a cluster
    list    show the lessons, what each deploys and what it asks of the cluster
    """
    from labs.commands import lab as cmd

    if action not in LAB_ACTIONS:
        raise Exit(f"error: unknown action {action!r}; use one of {', '.join(LAB_ACTIONS)}",
                   code=2)
    if action == "list":
        cmd.console.print(cmd.lessons_table())
        return
    if lesson is None:
        raise Exit("error: --lesson is required (see `invoke lab list`)", code=2)
    try:
        spec = cmd.spec_from_flags(lesson, learner, cohort, profile=profile,
                                   ciRunner=ci_runner, githubRepo=github_repo)
        sys.stdout.write(cmd.render_manifests(spec, Path(out) if out else None))
    except (SpecError, CatalogError) as exc:
        raise _fail(exc) from None


# --- cohort: a whole class ----------------------------------------------------------------

# --- cluster: kind, or the simulated cluster ----------------------------------------------

# --- toolchain: pulumi, provider and control-plane binaries built offline ------------------

# --- test and bench -----------------------------------------------------------------------
@task(help={"fast": "only the unit tier (no servers, no toolchain)"})
def test(c, fast=False):
    """Run every test tier: unit, service (real Postgres, RabbitMQ, SMTP) and e2e (real Pulumi
    engine against a real API server). Installs what the tiers need first, so this one
    command passes on a fresh clone."""
    if fast:
        c.run("python -m pytest -m \"not service and not e2e\" tests")
        return
    c.run("bash scripts/install-test-deps.sh")
    c.run("python -m pytest tests")
    if Path("labs/app/pytest.ini").exists():
        with c.cd("labs/app"):
            c.run("python -m pytest")

ns = Collection()
ns.add_task(lab)
ns.add_task(test)

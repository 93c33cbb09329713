"""Travis CI: the .travis.yml that lesson 5's checks validate, and when each command runs.

Validation uses check-jsonschema's vendored copy of SchemaStore's Travis schema, through the
same loader and error reporting as the GitHub workflows. The stage check reads the jobs Travis
would run and which commands finish, and pass, before which others start:

- Travis clones the repository (the checkout) before any phase, unless `git: {clone: false}`;
- a job runs its phases in PHASES order; a failing command in before_install, install or
  before_script ends the job at once; a failing `script` command fails the job but the later
  `script` commands still run; after_success, before_deploy, deploy and after_deploy run only
  when `script` passed; after_failure and after_script run either way;
- the jobs of `jobs.include` (or `matrix.include`) inherit the top-level keys and run in build
  stages, ordered by `stages:` and then by first use; a job without `stage:` is in the stage
  of the job before it ("test" for the first). A stage starts only when every job of the
  stages before it passed. Without an include list the top level is the one job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs.checks.ci_stages import command_stages
from labs.checks.workflows import load

TRAVIS_FILE = ".travis.yml"
SCHEMA = "vendor.travis"
PHASES = ("before_install", "install", "before_script", "script", "after_success",
          "after_failure", "before_deploy", "deploy", "after_deploy", "after_script")
STOPS_JOB = frozenset({"before_install", "install", "before_script"})
CAN_FAIL = STOPS_JOB | {"script"}  # phases whose failure fails the build
AFTER_PASS = frozenset({"after_success", "before_deploy", "deploy", "after_deploy"})
NEVER_GATED = frozenset({"after_failure", "after_script"})
DEFAULT_STAGE = "test"
NOT_JOB_KEYS = frozenset({"jobs", "matrix", "stages", "notifications", "import", "version"})


@dataclass(frozen=True)
class Command:
    job: int  # index in Config.jobs
    job_label: str
    phase: str
    index: int  # position in its phase's list
    run: str

    @property
    def where(self) -> str:
        return f"{TRAVIS_FILE}: {self.job_label} {self.phase}[{self.index}]"

    @property
    def at(self) -> tuple[int, int]:
        return PHASES.index(self.phase), self.index

    def stages(self) -> set[str]:
        return command_stages(self.run)


@dataclass(frozen=True)
class Job:
    label: str
    stage: str
    stage_index: int
    clones: bool
    services: frozenset[str]
    commands: tuple[Command, ...]


def _commands(value: Any) -> list[str]:
    """A phase's commands: one string or a list; true/false/skip mean none."""
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items
            if isinstance(v, str | int | float) and not isinstance(v, bool)
            and str(v) not in ("skip", "ignore")]


def _deploy_scripts(value: Any) -> list[str]:
    """The commands of `deploy: {provider: script, script: ...}` entries."""
    items = value if isinstance(value, list) else [value]
    return [str(d["script"]) for d in items
            if isinstance(d, dict) and d.get("provider") == "script" and d.get("script")]


def _job(index: int, label: str, stage: str, stage_index: int, raw: dict[str, Any]) -> Job:
    commands = []
    for phase in PHASES:
        runs = _deploy_scripts(raw.get(phase)) if phase == "deploy" else _commands(raw.get(phase))
        commands += [Command(index, label, phase, i, run) for i, run in enumerate(runs)]
    services = raw.get("services")
    services = [services] if isinstance(services, str) else services or []
    git = raw.get("git")
    clones = not (isinstance(git, dict) and git.get("clone") is False)
    return Job(label, stage, stage_index, clones,
               frozenset(str(s) for s in services if isinstance(s, str)), tuple(commands))


def _stage_name(item: Any) -> str | None:
    name = item.get("name") if isinstance(item, dict) else item
    return str(name).strip().lower() if name else None


@dataclass(frozen=True)
class Config:
    jobs: tuple[Job, ...]

    def commands(self) -> Iterator[Command]:
        for job in self.jobs:
            yield from job.commands

    def precedes(self, a: Command, b: Command) -> bool:
        """Does `a` finish, and pass, before `b` starts (so `b` runs only when `a` passed)?"""
        if b.phase in NEVER_GATED:
            return False
        if a.job != b.job:
            return self.jobs[a.job].stage_index < self.jobs[b.job].stage_index
        if a.phase in STOPS_JOB:
            return a.at < b.at
        # Later script commands run even after a failing one; the after-success phases do not.
        return a.phase == "script" and b.phase in AFTER_PASS

    @staticmethod
    def after_in_job(first: Command, then: Command) -> bool:
        return first.job == then.job and first.at < then.at and then.phase not in NEVER_GATED


def read(path: Path) -> Config:
    """The jobs of a .travis.yml; WorkflowLoadError when it is not YAML."""
    data = load(path)
    data = data if isinstance(data, dict) else {}
    root = {k: v for k, v in data.items() if k not in NOT_JOB_KEYS}
    section = data.get("jobs") if isinstance(data.get("jobs"), dict) else data.get("matrix")
    include = section.get("include") if isinstance(section, dict) else None
    if not isinstance(include, list) or not include:
        return Config((_job(0, "the top-level job", DEFAULT_STAGE, 0, root),))

    stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    order = [n for n in map(_stage_name, stages) if n]
    staged: list[tuple[int, str, dict[str, Any]]] = []
    stage = DEFAULT_STAGE
    for i, item in enumerate(include):
        if not isinstance(item, dict):
            continue
        stage = _stage_name(item.get("stage")) or stage
        if stage not in order:
            order.append(stage)
        staged.append((i, stage, {**root, **item}))
    jobs = []
    for n, (i, stage, raw) in enumerate(staged):
        label = f"jobs.include[{i}]" + (f" ({raw['name']})" if raw.get("name") else "")
        jobs.append(_job(n, label, stage, order.index(stage), raw))
    return Config(tuple(jobs))

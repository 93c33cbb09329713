"""GitHub Actions workflows: schema validation and the jobs/steps graph the stage check reads.

Validation uses check-jsonschema's vendored copy of SchemaStore's github-workflows schema and
its YAML loader (YAML 1.2, so `on:` stays a string key, as GitHub reads it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from check_jsonschema.builtin_schemas import get_builtin_schema
from check_jsonschema.parsers import FailedFileLoadError, ParserSet

from labs.checks.ci_stages import command_stages, covers, junit_paths

WORKFLOW_DIR = Path(".github") / "workflows"
SCHEMA = "vendor.github-workflows"
MAX_MESSAGE = 160

CHECKOUT = ("actions/checkout",)
UPLOAD = ("actions/upload-artifact",)
REPORTERS = ("dorny/test-reporter", "mikepenz/action-junit-report",
             "enricomi/publish-unit-test-result-action", "test-summary/action")
LINT_ACTIONS = ("astral-sh/ruff-action", "chartboost/ruff-action", "py-actions/flake8",
                "pre-commit/action")
BUILD_PUSH = ("docker/build-push-action",)


def workflow_files(repo: Path) -> list[Path]:
    """The files GitHub reads: *.yml and *.yaml directly in .github/workflows."""
    folder = repo / WORKFLOW_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))


@cache
def _validator(name: str = SCHEMA) -> jsonschema.protocols.Validator:
    schema = get_builtin_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class WorkflowLoadError(ValueError):
    """The file is not YAML (the message names the line)."""


def load(path: Path) -> Any:
    try:
        return ParserSet().parse_file(path, "yaml")
    except FailedFileLoadError as exc:
        cause = exc.__cause__
        mark = getattr(cause, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(cause, "problem", None) or str(cause)
        raise WorkflowLoadError(f"{where}not valid YAML ({problem})") from None


def _path(parts: Iterator[Any] | Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and not error.context:
        # Valid under several branches, e.g. a step with both `uses` and `run`.
        keys = [k for sub in error.validator_value for k in sub.get("required", ())]
        if isinstance(error.instance, dict):
            keys = [k for k in keys if k in error.instance]
        if len(keys) > 1:
            return f"only one of {', '.join(repr(k) for k in keys)} may be given"
    return _short(error.message)


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors worth reporting: inside oneOf/anyOf, those of the branch the data meant.

    The meant branch is the one whose keys the data uses (no "unexpected property" error at the
    failing object itself); among several, the one with the fewest errors.
    """
    if not error.context:
        return [error]
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    here = list(error.absolute_path)

    def misfit(errors: list[jsonschema.ValidationError]) -> tuple[int, int]:
        shape = sum(1 for e in errors if list(e.absolute_path) == here
                    and e.validator in ("additionalProperties", "type"))
        return shape, len(errors)

    meant = min(branches.values(), key=misfit)
    return [leaf for sub in meant for leaf in _leaves(sub)]


def schema_errors(path: Path, schema: str = SCHEMA) -> list[str]:
    """`path.to.field: message` for every error of one file against a vendored schema of
    check-jsonschema (GitHub's workflow schema unless told otherwise)."""
    try:
        data = load(path)
    except WorkflowLoadError as exc:
        return [str(exc)]
    if data is None:
        return ["the file is empty"]
    found: list[str] = []
    for error in _validator(schema).iter_errors(data):
        for leaf in _leaves(error):
            line = f"{_path(leaf.absolute_path)}: {_message(leaf)}"
            if line not in found:
                found.append(line)
    return found


# --- the graph the stage check reads -------------------------------------------------------


@dataclass(frozen=True)
class Step:
    file: str
    job: str
    index: int
    label: str  # the step's name, else what it uses/runs
    uses: str  # lower-cased action, without @ref ("" for run steps)
    run: str
    inputs: Mapping[str, Any]
    condition: str
    workdir: str

    @property
    def where(self) -> str:
        return f"{self.file}: jobs.{self.job}.steps[{self.index}] ({self.label})"

    def stages(self) -> set[str]:
        found = command_stages(self.run) if self.run else set()
        if self.uses in CHECKOUT:
            found.add("checkout")
        if self.uses in LINT_ACTIONS:
            found.add("lint")
        if self.uses in BUILD_PUSH:
            found.add("build")
            if str(self.inputs.get("push", "false")).strip().lower() not in ("false", ""):
                found.add("push")  # `push: true`, or an expression such as pushes on main
        return found

    def junit_reports(self) -> list[str]:
        """JUnit XML files this step writes, relative to the workspace."""
        prefix = self.workdir.strip("/") + "/" if self.workdir not in ("", ".") else ""
        return [p if p.startswith("/") or "$" in p else prefix + p for p in junit_paths(self.run)]

    def publishes(self, report: str) -> bool:
        """Does this step upload or publish `report` (artifact or test-report action)?"""
        if self.uses not in UPLOAD + REPORTERS:
            return False
        patterns = [line for value in self.inputs.values() if isinstance(value, str)
                    for line in value.replace(",", "\n").splitlines()
                    if line.strip() and not line.strip().startswith("!")]
        return any(covers(p, report) for p in patterns)

    def runs_after_failure(self) -> bool:
        return any(f in self.condition.replace(" ", "")
                   for f in ("always()", "!cancelled()", "failure()"))


@dataclass(frozen=True)
class Job:
    file: str
    id: str
    needs: tuple[str, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Workflow:
    file: str
    name: str
    triggers: frozenset[str]
    after_workflows: tuple[str, ...]  # on.workflow_run.workflows
    jobs: Mapping[str, Job]


def _triggers(on: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    if isinstance(on, str):
        return frozenset([on]), ()
    if isinstance(on, list):
        return frozenset(str(t) for t in on), ()
    if isinstance(on, dict):
        run = on.get("workflow_run") or {}
        after = tuple(str(w) for w in (run.get("workflows") or ())) if isinstance(run, dict) \
            else ()
        return frozenset(str(k) for k in on), after
    return frozenset(), ()


def _action(uses: Any) -> str:
    return str(uses or "").partition("@")[0].lower().rstrip("/")


def _label(raw: Mapping[str, Any], index: int) -> str:
    if raw.get("name"):
        return str(raw["name"])
    if raw.get("uses"):
        return str(raw["uses"])
    first = str(raw.get("run") or "").strip().splitlines()[:1]
    return first[0][:40] if first else f"step {index}"


def _job(file: str, job_id: str, raw: Any) -> Job:
    raw = raw if isinstance(raw, dict) else {}
    needs = raw.get("needs")
    needs = (needs,) if isinstance(needs, str) else \
        tuple(str(n) for n in needs) if isinstance(needs, list) else ()
    defaults = raw.get("defaults")
    run_defaults = defaults.get("run") if isinstance(defaults, dict) else None
    default_dir = str(run_defaults.get("working-directory") or "") \
        if isinstance(run_defaults, dict) else ""
    raw_steps = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    steps = []
    for i, step in enumerate(raw_steps):
        if not isinstance(step, dict):
            continue
        inputs = step.get("with") if isinstance(step.get("with"), dict) else {}
        steps.append(Step(file, job_id, i, _label(step, i), _action(step.get("uses")),
                          str(step.get("run") or ""), inputs, str(step.get("if") or ""),
                          str(step.get("working-directory") or default_dir)))
    return Job(file, job_id, needs, tuple(steps))


def read(path: Path) -> Workflow:
    data = load(path)
    data = data if isinstance(data, dict) else {}
    triggers, after = _triggers(data.get("on"))
    raw_jobs = data.get("jobs") if isinstance(data.get("jobs"), dict) else {}
    jobs = {str(k): _job(path.name, str(k), v) for k, v in raw_jobs.items()}
    return Workflow(path.name, str(data.get("name") or path.relative_to(path.parents[2])),
                    triggers, after, jobs)


@dataclass(frozen=True)
class Graph:
    """Every job of every workflow, and which jobs finish before which.

    A job runs after the jobs it `needs` (transitively), and after every job of a workflow
    named in its own workflow's `on.workflow_run.workflows`.
    """

    workflows: tuple[Workflow, ...]

    def steps(self) -> Iterator[Step]:
        for wf in self.workflows:
            for job in wf.jobs.values():
                yield from job.steps

    def workflow(self, file: str) -> Workflow:
        return next(wf for wf in self.workflows if wf.file == file)

    def _before(self, file: str, job: str) -> set[tuple[str, str]]:
        """(file, job) of every job that completes before `job` starts."""
        seen: set[tuple[str, str]] = set()
        todo = [(file, job)]
        while todo:
            f, j = todo.pop()
            wf = self.workflow(f)
            for need in wf.jobs[j].needs if j in wf.jobs else ():
                if (f, need) not in seen:
                    seen.add((f, need))
                    todo.append((f, need))
            for other in self.workflows:
                if other.name in wf.after_workflows:
                    for other_job in other.jobs:
                        if (other.file, other_job) not in seen:
                            seen.add((other.file, other_job))
                            todo.append((other.file, other_job))
        return seen

    def precedes(self, a: Step, b: Step) -> bool:
        """Does step a finish before step b starts?"""
        if (a.file, a.job) == (b.file, b.job):
            return a.index < b.index
        return (a.file, a.job) in self._before(b.file, b.job)

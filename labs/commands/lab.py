"""`invoke lab ...`: what each action does for one learner, and what it prints."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from infra.render import render, to_yaml
from labs.catalog import default_catalog
from labs.names import default_learner
from labs.sizing import footprint
from labs.spec import LabSpec, build_spec

console = Console(stderr=True)


def spec_from_flags(lesson: int | None, learner: str | None, cohort: str | None,
                    **extra: str | None) -> LabSpec:
    """The LabSpec a command line asks for; SpecError lists every bad flag."""
    values = {"lesson": lesson, "learner": learner or default_learner(), "cohort": cohort,
              **extra}
    return build_spec({k: v for k, v in values.items() if v is not None})


def render_manifests(spec: LabSpec, out: Path | None) -> str:
    """Multi-document YAML of the environment; also written to out/<namespace>.yaml."""
    text = to_yaml(render(spec))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{spec.namespace}.yaml"
        target.write_text(text)
        console.print(f"wrote {target}")
    return text


def lessons_table() -> Table:
    catalog = default_catalog()
    table = Table(title="Lessons", title_justify="left")
    for column in ("#", "title", "components", "profile", "CPU / memory requested"):
        table.add_column(column)
    for lesson in catalog.lessons.values():
        fp = footprint(lesson, catalog.profile(lesson.profile))
        table.add_row(str(lesson.number), lesson.title,
                      ", ".join(lesson.components) or "(namespace only)", lesson.profile,
                      f"{fp.requests_cpu.normalize()} / {fp.requests_memory / 2**30:.1f}Gi")
    return table

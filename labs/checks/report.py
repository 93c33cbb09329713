"""The instructor's cohort progress report: per learner × per check, with totals.

`cohort_report` turns each learner's check results into a `Report`; the writers render it as a
rich table (terminal), CSV, or one self-contained HTML page (inline CSS, no scripts).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.table import Table

from labs.checks.core import CheckResult


@dataclass(frozen=True)
class CheckColumn:
    id: str
    title: str
    passed: int  # learners who pass it
    total: int  # learners


@dataclass(frozen=True)
class LearnerRow:
    learner: str
    outcomes: tuple[bool | None, ...]  # per column; None when the check did not run
    details: tuple[str, ...]
    passed: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class Report:
    checks: tuple[CheckColumn, ...]
    learners: tuple[LearnerRow, ...]
    lesson: int | None = None
    title: str = "Cohort progress"

    @property
    def passed(self) -> int:
        return sum(row.passed for row in self.learners)

    @property
    def total(self) -> int:
        return sum(row.total for row in self.learners)

    @property
    def complete(self) -> int:
        """Learners who pass every check."""
        return sum(1 for row in self.learners if row.total and row.passed == row.total)


def cohort_report(results: Mapping[str, Sequence[CheckResult]], lesson: int | None = None,
                  title: str = "Cohort progress") -> Report:
    """Build the report; columns are the checks in the order first seen, learners sorted."""
    titles: dict[str, str] = {}
    for learner_results in results.values():
        for r in learner_results:
            titles.setdefault(r.id, r.title)
    ids = list(titles)
    rows: list[LearnerRow] = []
    for learner in sorted(results):
        by_id = {r.id: r for r in results[learner]}
        outcomes = tuple(by_id[i].passed if i in by_id else None for i in ids)
        details = tuple(by_id[i].detail if i in by_id else "not run" for i in ids)
        rows.append(LearnerRow(learner=learner, outcomes=outcomes, details=details,
                               passed=sum(1 for o in outcomes if o), total=len(ids)))
    columns = tuple(
        CheckColumn(id=i, title=titles[i], passed=sum(1 for row in rows if row.outcomes[n]),
                    total=len(rows))
        for n, i in enumerate(ids))
    return Report(checks=columns, learners=tuple(rows), lesson=lesson, title=title)


def _mark(outcome: bool | None) -> str:
    return {True: "✔", False: "✘", None: "–"}[outcome]


def _heading(report: Report) -> str:
    return report.title + (f" — lesson {report.lesson}" if report.lesson is not None else "")


def report_table(report: Report) -> Table:
    table = Table(title=_heading(report))
    table.add_column("learner", no_wrap=True)
    for col in report.checks:
        table.add_column(col.id, justify="center")
    table.add_column("total", justify="right", no_wrap=True)
    for row in report.learners:
        marks = [f"[green]{_mark(o)}[/green]" if o else f"[red]{_mark(o)}[/red]"
                 for o in row.outcomes]
        table.add_row(row.learner, *marks, f"{row.passed}/{row.total} ({row.percent:.0f}%)")
    table.add_section()
    table.add_row("[bold]passed[/bold]", *(f"{c.passed}/{c.total}" for c in report.checks),
                  f"{report.passed}/{report.total}")
    return table


def report_csv(report: Report) -> str:
    """One row per learner (pass/fail/not run per check, passed, total, percent), then totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", *(c.id for c in report.checks), "passed", "total", "percent"])
    words = {True: "pass", False: "fail", None: "not run"}
    for row in report.learners:
        writer.writerow([row.learner, *(words[o] for o in row.outcomes), row.passed, row.total,
                         f"{row.percent:.0f}"])
    percent = 100.0 * report.passed / report.total if report.total else 0.0
    writer.writerow(["checks passed", *(c.passed for c in report.checks), report.passed,
                     report.total, f"{percent:.0f}"])
    return out.getvalue()


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem}p.meta{color:#52606d}
table{border-collapse:collapse;margin-top:1rem}
th,td{border:1px solid #d9e2ec;padding:.35rem .6rem;text-align:center}
th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;max-height:14rem}
td.learner,th.learner{text-align:left;font-weight:600}
td.pass{background:#e3f9e5;color:#1f7a35}td.fail{background:#ffe3e3;color:#b42318}
td.none{color:#9aa5b1}tr.totals td{font-weight:600;background:#f5f7fa}
.bar{width:10rem;height:.8rem;background:#e4e7eb;border-radius:.4rem;overflow:hidden;
display:inline-block;vertical-align:middle;margin-right:.4rem}
.bar span{display:block;height:100%;background:#3ebd93}
"""


def report_html(report: Report, generated: datetime | None = None) -> str:
    """A self-contained page: per-learner × per-check grid, totals and a completion bar."""
    e = html.escape
    generated = generated or datetime.now().astimezone()
    head = "".join(f'<th class="check" title="{e(c.title)}">{e(c.id)}</th>'
                   for c in report.checks)
    rows = []
    for row in report.learners:
        cells = "".join(
            f'<td class="{ {True: "pass", False: "fail", None: "none"}[o]}" '
            f'title="{e(d)}">{_mark(o)}</td>'
            for o, d in zip(row.outcomes, row.details, strict=True))
        pct = f"{row.percent:.0f}"
        rows.append(
            f'<tr><td class="learner">{e(row.learner)}</td>{cells}'
            f'<td class="total">{row.passed}/{row.total}</td>'
            f'<td class="progress"><span class="bar"><span style="width:{pct}%"></span></span>'
            f"{pct}%</td></tr>")
    totals = "".join(f'<td class="count">{c.passed}/{c.total}</td>' for c in report.checks)
    overall = 100.0 * report.passed / report.total if report.total else 0.0
    rows.append(f'<tr class="totals"><td class="learner">learners passing</td>{totals}'
                f"<td>{report.passed}/{report.total}</td><td>{overall:.0f}%</td></tr>")
    stamp = e(generated.isoformat(timespec="seconds"))
    legend = "".join(f"<li><code>{e(c.id)}</code>: {e(c.title)}</li>" for c in report.checks)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{e(_heading(report))}</title><style>{_CSS}</style></head><body>"
        f"<h1>{e(_heading(report))}</h1>"
        f'<p class="meta">{len(report.learners)} learners, {len(report.checks)} checks; '
        f"{report.complete} learner(s) complete. Generated {stamp}."
        "</p>"
        f'<table><thead><tr><th class="learner">learner</th>{head}<th>total</th>'
        f"<th>completion</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h2>Checks</h2><ul>{legend}</ul></body></html>\n")


def write_report(report: Report, out_dir: Path, stem: str = "cohort-report") -> dict[str, Path]:
    """Write <stem>.csv and <stem>.html into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / f"{stem}.csv", "html": out_dir / f"{stem}.html"}
    paths["csv"].write_text(report_csv(report))
    paths["html"].write_text(report_html(report))
    return paths

"""A self-contained HTML summary of a run: tables and the PNG charts embedded as data URIs."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from pathlib import Path

from labs.loadtest.replicas import ReplicaHistory
from labs.loadtest.summary import EndpointStats, SloResult, Summary

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.total { font-weight: bold; background: #f4f4f4; }
.ok { color: #1a7f37; } .fail { color: #cf222e; }
img { max-width: 100%; display: block; margin: 1em 0; }
"""


def data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _row(e: EndpointStats, label: str, css: str = "") -> str:
    cells = [label, f"{e.requests:,}", f"{e.failures:,}", f"{e.error_rate:.2%}",
             f"{e.rps:,.1f}", _ms(e.p50_ms), _ms(e.p95_ms), _ms(e.p99_ms), _ms(e.max_ms)]
    tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
    return f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def replica_section(history: ReplicaHistory, start: float | None) -> str:
    """'Replica changes during the test': one row per change of the sampled counts."""
    head = f"<h2>Replica changes during the test</h2><p>{escape(history.describe())}</p>"
    changes = history.changes()
    if not changes:
        return head
    origin = start if start is not None else changes[0].timestamp
    rows = ["<table><tr><th>second</th><th>desired</th><th>ready</th><th>HPA current</th>"
            "<th>HPA desired</th></tr>"]
    for s in changes:
        c = s.counts
        cells = [f"{s.timestamp - origin:+.0f}", str(c.desired), str(c.ready),
                 _count(c.hpa_current), _count(c.hpa_desired)]
        rows.append("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in cells) + "</tr>")
    return head + "".join(rows) + "</table>"


def render_html(summary: Summary, charts: Mapping[str, Path], *, title: str,
                details: Mapping[str, str] | None = None, slo: SloResult | None = None,
                replicas: ReplicaHistory | None = None) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"]
    if details:
        parts.append("<table>" + "".join(
            f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
            for k, v in details.items()) + "</table>")
    if slo is not None:
        verdict = "held" if slo.passed else "missed"
        parts.append(f"<h2>SLO: <span class='{'ok' if slo.passed else 'fail'}'>{verdict}</span>"
                     f"</h2><p>{escape(slo.slo.describe())}</p><table><tr><th>check</th>"
                     "<th>observed</th><th>bound</th><th></th></tr>")
        for c in slo.checks:
            parts.append(f"<tr><td>{escape(c.name)}</td><td>{escape(c.observed)}</td>"
                         f"<td>{escape(c.bound)}</td><td class='{'ok' if c.ok else 'fail'}'>"
                         f"{'ok' if c.ok else 'FAIL'}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Endpoints</h2><table><tr><th>endpoint</th><th>requests</th>"
                  "<th>failures</th><th>error rate</th><th>req/s</th><th>p50 ms</th>"
                  "<th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>")
    for e in sorted(summary.endpoints, key=lambda e: -e.requests):
        label = e.name if e.name.startswith(f"{e.method} ") else f"{e.method} {e.name}"
        parts.append(_row(e, label.strip()))
    parts.append(_row(summary.total, "total", "total") + "</table>")
    if summary.failures:
        parts.append("<h2>Failures</h2><table><tr><th>request</th><th>error</th>"
                     "<th>occurrences</th></tr>")
        for f in summary.failures:
            parts.append(f"<tr><td>{escape(f.get('Method', ''))} {escape(f.get('Name', ''))}"
                         f"</td><td>{escape(f.get('Error', ''))}</td>"
                         f"<td>{escape(f.get('Occurrences', ''))}</td></tr>")
        parts.append("</table>")
    if replicas is not None:
        start = summary.history[0].timestamp if summary.history else None
        parts.append(replica_section(replicas, start))
    parts.append("<h2>Charts</h2>")
    for name, png in charts.items():
        parts.append(f"<h3>{escape(name)}</h3><img alt='{escape(name)}' src='{data_uri(png)}'>")
    parts.append("</body></html>\n")
    return "".join(parts)

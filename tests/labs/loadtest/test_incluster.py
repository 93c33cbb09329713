"""In-cluster runs without a cluster: the Job's log back into CSV files, and into a report."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.components.loadgen import CSV_DIR, LoadTest, loadgen_manifests
from infra.replicas import ReplicaCounts
from labs.loadtest.incluster import (
    SimulatedClusterError,
    job_state,
    join_sections,
    results_job,
    split_sections,
    write_sections,
)
from labs.loadtest.replicas import ReplicaHistory, ReplicaSample
from labs.loadtest.results import RunSettings, write_report
from tests.infra.conftest import spec_for
from tests.labs.loadtest.test_summary import write_run

pytestmark = pytest.mark.unit

# Locust writes its CSV rows with \r\n; a file may also be empty or hold a lone header.
FILES = {
    "locust_exceptions.csv": "Count,Message,Traceback,Nodes\r\n",
    "locust_failures.csv": "Method,Name,Error,Occurrences\r\nGET,/x,\"HTTPError('500, a')\",2\r\n",
    "locust_stats.csv": "Type,Name,Request Count\r\nGET,/api/listings/,10\r\n,Aggregated,10\r\n",
    "locust_stats_history.csv": "",
}
LOCUST_STDOUT = ("[2026-05-01 10:00:00] locust/INFO: Run time limit reached\n"
                 "Type     Name   # reqs\n=== not a section header\n")


def test_sections_round_trip_to_identical_files(tmp_path: Path) -> None:
    log = LOCUST_STDOUT + join_sections(FILES)
    sections = split_sections(log)
    assert sections == FILES
    paths = write_sections(sections, tmp_path)
    assert sorted(p.name for p in paths) == sorted(FILES)
    for name, content in FILES.items():
        assert (tmp_path / name).read_bytes() == content.encode()


def test_the_jobs_own_shell_loop_prints_what_split_sections_reads(tmp_path: Path) -> None:
    """Run the loop of the rendered Job (pointed at a temp dir) and split what it prints."""
    job = loadgen_manifests(spec_for(8), LoadTest(run_id="r1"))[1]
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][-1]
    loop = script.split(" ; rc=$? ; ", 1)[1].rsplit(" ; exit $rc", 1)[0]
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    for name, content in FILES.items():
        (csv_dir / name).write_bytes(content.encode())
    printed = subprocess.run(["/bin/sh", "-c", loop.replace(CSV_DIR, str(csv_dir))],
                             capture_output=True, check=True).stdout.decode()
    # The files' own directory is in each header: compare against the Job's real one.
    sections = split_sections(LOCUST_STDOUT + printed.replace(str(csv_dir), CSV_DIR))
    assert sections == FILES


def test_a_log_without_csv_files_has_no_sections() -> None:
    assert split_sections("locust: error\n") == {}
    # An empty glob prints its own pattern: not a file.
    assert split_sections(f"=== {CSV_DIR}/*.csv\ncat: can't open\n") == {}


def test_results_come_from_the_standalone_job_or_the_master() -> None:
    assert results_job(LoadTest(run_id="r1")) == "loadtest-r1"
    assert results_job(LoadTest(run_id="r1", workers=2)) == "loadtest-r1-master"


def _job(*conditions: tuple[str, str]) -> SimpleNamespace:
    conds = [SimpleNamespace(type=t, status="True", reason=r, message=f"{r} happened")
             for t, r in conditions]
    return SimpleNamespace(status=SimpleNamespace(conditions=conds))


def test_job_state_reads_the_conditions() -> None:
    assert job_state(SimpleNamespace(status=None)) == ("running", "")
    assert job_state(_job(("Complete", "")))[0] == "complete"
    state, why = job_state(_job(("Failed", "DeadlineExceeded")))
    assert state == "failed" and "DeadlineExceeded" in why


def test_the_simulated_cluster_message_names_job_pod_and_node() -> None:
    text = str(SimulatedClusterError("local-ada", "loadtest-r1", "loadtest-r1-x7", "kwok-1"))
    assert "loadtest-r1 was accepted" in text and "scheduled on node kwok-1" in text
    assert "runs no containers" in text and "--target http://127.0.0.1:8000" in text


def test_a_log_read_back_makes_the_same_report_as_a_local_run(tmp_path: Path) -> None:
    made = tmp_path / "made"
    made.mkdir()
    write_run(made)
    files = {p.name: p.read_text() for p in sorted(made.glob("*.csv"))}
    out = tmp_path / "report"
    out.mkdir()
    write_sections(split_sections(LOCUST_STDOUT + join_sections(files)), out)

    replicas = ReplicaHistory("api", tuple(
        ReplicaSample(ts, ReplicaCounts("api", desired, ready, "api", 2, 8, ready, desired))
        for ts, desired, ready in ((1000, 2, 2), (1002, 2, 2), (1003, 4, 2), (1005, 4, 4))))
    result = write_report(out, RunSettings("http://api", "mixed", 4, 2, 5), replicas=replicas)
    assert result.summary.total.requests == 110
    assert set(result.charts) == {"throughput", "latency", "errors", "replicas"}
    html = result.html.read_text()
    assert "Replica changes during the test" in html
    assert html.count("<td>+") == 3  # the first sample and two changes; (1002) repeats (1000)
    assert result.locust_html is None  # in-cluster runs have no Locust page
    assert (out / "summary.json").read_text().count('"hpa_desired"') == 3

"""A fake of the parts of Jenkins' JSON remote access API that lesson 5's checks read.

It answers the same paths, fields and shapes as Jenkins (a Pipeline job, WorkflowRun builds,
the junit plugin's TestResult): `/job/NAME/api/json`, `/job/NAME/lastBuild/api/json`,
`/job/NAME/N/api/json`, `.../testReport/api/json`; 404 (HTML) for what does not exist, and 403
for anonymous reads when credentials are required, as Jenkins does without anonymous read.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JOB = "sample-api"


@dataclass
class JenkinsState:
    """What the fake Jenkins holds; tests change it between checks."""

    job_exists: bool = True
    number: int | None = None  # last build number; None: never built
    building: bool = False
    result: str | None = None
    tests: tuple[int, int, int] | None = None  # passed, failed, skipped; None: no junit report
    credentials: tuple[str, str] | None = None  # required user and token, if any
    requests: list[str] = field(default_factory=list)


def _job(state: JenkinsState, base: str) -> dict[str, Any]:
    last = None if state.number is None else {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": state.number,
        "url": f"{base}/job/{JOB}/{state.number}/"}
    colour = "notbuilt" if last is None else {"SUCCESS": "blue", "UNSTABLE": "yellow"}.get(
        state.result or "", "red") + ("_anime" if state.building else "")
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
        "actions": [{}, {"_class": "com.cloudbees.plugins.credentials.ViewCredentialsAction"}],
        "description": None, "displayName": JOB, "displayNameOrNull": None,
        "fullDisplayName": JOB, "fullName": JOB, "name": JOB, "url": f"{base}/job/{JOB}/",
        "buildable": True, "builds": [last] if last else [], "color": colour,
        "firstBuild": last, "healthReport": [], "inQueue": False, "keepDependencies": False,
        "lastBuild": last,
        "lastCompletedBuild": None if state.building else last,
        "lastFailedBuild": last if state.result == "FAILURE" else None,
        "lastStableBuild": last if state.result == "SUCCESS" else None,
        "lastSuccessfulBuild": last if state.result == "SUCCESS" else None,
        "lastUnstableBuild": last if state.result == "UNSTABLE" else None,
        "lastUnsuccessfulBuild": last if state.result not in (None, "SUCCESS") else None,
        "nextBuildNumber": (state.number or 0) + 1, "property": [], "queueItem": None,
        "concurrentBuild": True, "resumeBlocked": False,
    }


def _build(state: JenkinsState, base: str) -> dict[str, Any]:
    assert state.number is not None
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "actions": [{"_class": "hudson.model.CauseAction", "causes": [{
            "_class": "hudson.model.Cause$UserIdCause",
            "shortDescription": "Started by user admin", "userId": "admin",
            "userName": "admin"}]}],
        "artifacts": [], "building": state.building, "description": None,
        "displayName": f"#{state.number}", "duration": 0 if state.building else 84213,
        "estimatedDuration": 80000, "executor": {} if state.building else None,
        "fullDisplayName": f"{JOB} #{state.number}", "id": str(state.number),
        "keepLog": False, "number": state.number, "queueId": 11, "result": state.result,
        "timestamp": 1767225600000, "url": f"{base}/job/{JOB}/{state.number}/",
        "changeSets": [], "culprits": [], "inProgress": state.building, "nextBuild": None,
        "previousBuild": None,
    }


def _report(state: JenkinsState) -> dict[str, Any]:
    assert state.tests is not None
    passed, failed, skipped = state.tests
    return {"_class": "hudson.tasks.junit.TestResult", "testActions": [], "duration": 12.5,
            "empty": False, "failCount": failed, "passCount": passed, "skipCount": skipped,
            "suites": [{"cases": [], "duration": 12.5, "enclosingBlockNames": ["Test"],
                        "enclosingBlocks": ["12"], "id": None, "name": "pytest",
                        "nodeId": "15", "stderr": None, "stdout": None,
                        "timestamp": "2026-01-01T00:00:30.000000+00:00"}]}


def _answer(state: JenkinsState, path: str, base: str) -> dict[str, Any] | None:
    """The JSON for `path` (without /api/json), None for a 404."""
    match = re.fullmatch(rf"/job/{JOB}(?:/(lastBuild|\d+))?(/testReport)?/?", path)
    if match is None or not state.job_exists:
        return None
    which, report = match.groups()
    if which is None:
        return None if report else _job(state, base)
    if state.number is None or which not in ("lastBuild", str(state.number)):
        return None
    if report:
        return _report(state) if state.tests is not None else None
    return _build(state, base)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state
        state.requests.append(self.path)
        if state.credentials is not None:
            user, token = state.credentials
            expected = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
            given = self.headers.get("Authorization")
            if given != expected:
                self._send(401 if given else 403, b"<html>Authentication required</html>",
                           "text/html")
                return
        path = self.path.split("?")[0]
        body = None
        if path.endswith("/api/json"):
            base = f"http://{self.headers.get('Host')}"
            body = _answer(state, path.removesuffix("/api/json"), base)
        if body is None:
            self._send(404, b"<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>",
                       "text/html;charset=utf-8")
            return
        self._send(200, json.dumps(body).encode(), "application/json;charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Jenkins", "2.541.1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: JenkinsState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def fake_jenkins(state: JenkinsState) -> Iterator[str]:
    """Serve `state` on 127.0.0.1; yields the base URL."""
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, name="fake-jenkins", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The few reads of Jenkins' JSON remote access API that lesson 5's checks need.

Credentials, when Jenkins denies anonymous reads (the lab's does), ride in the URL:
`http://admin:API_TOKEN@127.0.0.1:8080`; requests turns them into basic auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

TIMEOUT = 10.0


class JenkinsError(Exception):
    """Jenkins could not be asked, or answered something this client does not understand."""


class NotFound(JenkinsError):
    """404: no such job, build or test report."""


@dataclass(frozen=True)
class Build:
    number: int
    building: bool
    result: str | None  # SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT; null while building
    url: str


@dataclass(frozen=True)
class JUnitSummary:
    passed: int
    failed: int
    skipped: int


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def job_path(job: str) -> str:
    """`folder/name` -> `/job/folder/job/name` (jobs in folders nest in the URL)."""
    return "".join(f"/job/{quote(part, safe='')}" for part in job.strip("/").split("/"))


def get_json(base_url: str, path: str) -> dict[str, Any]:
    url = base_url.rstrip("/") + path + "/api/json"
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise JenkinsError(f"cannot reach Jenkins at {redact(base_url)}: "
                           f"{type(exc).__name__}") from None
    if response.status_code == 404:
        raise NotFound(path)
    if response.status_code in (401, 403):
        raise JenkinsError(f"Jenkins refused the read ({response.status_code}): give a user and "
                           "API token in the URL, http://USER:TOKEN@HOST:8080")
    if response.status_code != 200:
        raise JenkinsError(f"Jenkins answered {response.status_code} for {path}/api/json")
    try:
        body = response.json()
    except ValueError:
        raise JenkinsError(f"{path}/api/json did not answer JSON") from None
    if not isinstance(body, dict):
        raise JenkinsError(f"{path}/api/json answered {type(body).__name__}, not an object")
    return body


def last_build(base_url: str, job: str) -> Build | None:
    """The job's last build, None when it never ran. Raises NotFound for a missing job."""
    info = get_json(base_url, job_path(job))
    if not info.get("lastBuild"):
        return None
    raw = get_json(base_url, job_path(job) + "/lastBuild")
    return Build(number=int(raw["number"]), building=bool(raw.get("building")),
                 result=raw.get("result"), url=str(raw.get("url") or ""))


def junit_report(base_url: str, job: str, number: int) -> JUnitSummary | None:
    """The JUnit report the build recorded (the `junit` step), None when it recorded none."""
    try:
        raw = get_json(base_url, f"{job_path(job)}/{number}/testReport")
    except NotFound:
        return None
    failed = int(raw.get("failCount") or 0)
    skipped = int(raw.get("skipCount") or 0)
    if "passCount" in raw:  # hudson.tasks.junit.TestResult (the junit step)
        passed = int(raw["passCount"])
    else:  # aggregated results (e.g. Maven jobs) give totalCount instead
        passed = int(raw.get("totalCount") or 0) - failed - skipped
    return JUnitSummary(passed=passed, failed=failed, skipped=skipped)

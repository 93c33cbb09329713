"""`invoke lab check` and `invoke cohort check`: a lesson's checks, for one learner or a class."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from rich.console import Console

from infra.automation import ClusterTarget
from infra.kubeconfig import admin_client
from labs.checks import (
    CheckContext,
    CheckResult,
    NoChecks,
    all_passed,
    lessons_with_checks,
    results_json,
    results_table,
    run_checks,
)
from labs.checks.report import cohort_report, report_table, write_report
from labs.practice.app_workspace import workspace_path
from labs.practice.git_practice import default_practice_root
from labs.spec import LabSpec

console = Console(stderr=True)

# Where `kubectl port-forward` puts each service in the lesson guides.
LOCAL_API = "http://127.0.0.1:8000"
LOCAL_MAILPIT = "http://127.0.0.1:8025"
LOCAL_CHAPA = "http://127.0.0.1:8090"
LOCAL_JENKINS = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Endpoints:
    """Where HTTP checks reach the learner's services; None means the guide's default."""

    url: str | None = None
    mail_url: str | None = None
    chapa_url: str | None = None
    chapa_webhook_secret: str | None = None
    jenkins_url: str | None = None


def _secret_value(api: object | None, namespace: str, name: str, key: str) -> str | None:
    """One key of a Secret in the learner's namespace (admin access), or None."""
    if api is None:
        return None
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        secret = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    except ApiException:
        return None
    value = (secret.data or {}).get(key)
    return base64.b64decode(value).decode() if value else None


def _webhook_secret(api: object | None, namespace: str) -> str | None:
    from infra.components.app_env import APP_SECRET  # the app's generated secrets

    return _secret_value(api, namespace, APP_SECRET, "chapa-webhook-secret")


def _jenkins_url(api: object | None, namespace: str, base: str = LOCAL_JENKINS) -> str:
    """The port-forwarded Jenkins, signed in as the lab's admin when its Secret is readable
    (the lab's Jenkins refuses anonymous reads) and `base` names no user of its own."""
    from infra.components.ci_runner import JENKINS_SECRET

    if urlsplit(base).username:
        return base
    password = _secret_value(api, namespace, JENKINS_SECRET, "password")
    if not password:
        return base
    return base.replace("http://", f"http://admin:{quote(password, safe='')}@", 1)


def context_for(spec: LabSpec, target: ClusterTarget | None,
                endpoints: Endpoints | None = None, cohort: bool = False) -> CheckContext:
    """The check context of one learner: `endpoints`, else the guide's port-forwards. In a
    cohort run (check_cohort) an API not given is reached through the learner's ingress host
    (http://<learner>.<domain>); forwarded_endpoints gives the rest, learner by learner."""
    ep = endpoints or Endpoints()
    api = admin_client(target.kubeconfig, target.context) if target else None
    lesson = spec.lesson.number
    root = default_practice_root(spec.cohort, spec.learner)
    url = ep.url or (f"http://{spec.ingress_host}" if cohort else LOCAL_API)
    jenkins = _jenkins_url(api, spec.namespace, ep.jenkins_url or LOCAL_JENKINS) \
        if lesson == 5 else ep.jenkins_url
    if lesson == 3:
        repo: Path | None = root / "practice"
    elif lesson == 5:
        repo = workspace_path(root, lesson)
    else:
        repo = None
    return CheckContext(
        namespace=spec.namespace, learner=spec.learner, cohort=spec.cohort, api=api,
        repo=repo, base_url=url, mail_url=ep.mail_url or LOCAL_MAILPIT,
        chapa_url=ep.chapa_url or LOCAL_CHAPA,
        chapa_webhook_secret=ep.chapa_webhook_secret or (
            _webhook_secret(api, spec.namespace) if lesson == 6 else None),
        reports_dir=Path("reports") / spec.learner, jenkins_url=jenkins)


def _no_checks(lesson: int) -> int:
    have = ", ".join(map(str, lessons_with_checks()))
    console.print(f"[yellow]lesson {lesson} has no automatic checks yet[/] (lessons with "
                  f"checks: {have}); its guide says what done looks like")
    return 2


def cluster_use(lesson: int) -> str | None:
    """Whether a lesson's checks read the Kubernetes API: "required", "optional" (lessons 5
    and 6 read Jenkins' and the webhook's secrets from it when they can) or None."""
    return {4: "required", 5: "optional", 6: "optional"}.get(lesson)


def has_checks(lesson: int) -> bool:
    return lesson in lessons_with_checks()


def check_learner(spec: LabSpec, target: ClusterTarget | None, as_json: bool,
                  endpoints: Endpoints | None = None) -> int:
    try:
        results = run_checks(spec.lesson.number, context_for(spec, target, endpoints))
    except NoChecks:
        return _no_checks(spec.lesson.number)
    if as_json:
        print(results_json(results, lesson=spec.lesson.number, learner=spec.learner))
    else:
        console.print(results_table(results, title=f"lesson {spec.lesson.number} checks for "
                                                   f"{spec.learner}"))
    return 0 if all_passed(results) else 1


@dataclass(frozen=True)
class Forwarded:
    """A Service of the learner's namespace that a lesson's checks reach over HTTP, and the
    Endpoints field its forward fills."""

    field: str
    service: str
    port: int


# Lessons whose checks drive the API over HTTP (lesson 4 reads the Kubernetes API, lesson 5
# the pipeline files and Jenkins).
API_LESSONS = (1, 2, 6, 7, 8)


def forwards_for(spec: LabSpec) -> tuple[Forwarded, ...]:
    """What a cohort check forwards for one learner: the API where the lesson gives it no
    Ingress, and the lesson's mail catcher, Chapa sandbox or Jenkins, none of which has one.
    Each learner gets forwards of their own: one shared port-forward reaches one namespace."""
    from infra.components.api import SERVICE, SERVICE_PORT
    from infra.components.app_env import (
        CHAPA_SANDBOX_PORT,
        CHAPA_SANDBOX_SERVICE,
        MAILPIT_SERVICE,
    )
    from infra.components.ci_runner import JENKINS_PORT
    from infra.components.mailpit import WEB_PORT

    lesson = spec.lesson.number
    wanted = []
    if lesson in API_LESSONS and spec.deploys("api") and not spec.lesson.api.ingress:
        wanted.append(Forwarded("url", SERVICE, SERVICE_PORT))
    if lesson == 7 and spec.deploys("mailpit"):
        wanted.append(Forwarded("mail_url", MAILPIT_SERVICE, WEB_PORT))
    if lesson == 6 and spec.deploys("chapa_sandbox"):
        wanted.append(Forwarded("chapa_url", CHAPA_SANDBOX_SERVICE, CHAPA_SANDBOX_PORT))
    if lesson == 5 and spec.deploys("ci_runner") and spec.ci_runner == "jenkins":
        wanted.append(Forwarded("jenkins_url", "jenkins", JENKINS_PORT))
    return tuple(wanted)


@contextlib.contextmanager
def forwarded_endpoints(spec: LabSpec, target: ClusterTarget | None,
                        given: Endpoints | None = None) -> Iterator[Endpoints]:
    """`given`, with every field it leaves empty that `forwards_for` names filled by a
    port-forward of this learner's own Service (open until the block ends)."""
    from infra.portforward import ServiceForward

    endpoints = given or Endpoints()
    if target is None:
        yield endpoints
        return
    with contextlib.ExitStack() as stack:
        for fwd in forwards_for(spec):
            if getattr(endpoints, fwd.field) is None:
                local = stack.enter_context(ServiceForward(
                    lambda: admin_client(target.kubeconfig, target.context),
                    spec.namespace, fwd.service, fwd.port))
                endpoints = replace(endpoints, **{fwd.field: local.url})
        yield endpoints


def check_cohort(specs: list[LabSpec], target: ClusterTarget | None, out_dir: Path,
                 parallel: int = 8, endpoints: Endpoints | None = None) -> int:
    if not specs:
        return 0
    lesson = specs[0].lesson.number
    if lesson not in lessons_with_checks():
        return _no_checks(lesson)

    def one(spec: LabSpec) -> tuple[str, list[CheckResult]]:
        with forwarded_endpoints(spec, target, endpoints) as reach:
            return spec.learner, run_checks(lesson, context_for(spec, target, reach,
                                                                cohort=True))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = dict(pool.map(one, specs))
    report = cohort_report(results, lesson=lesson)
    console.print(report_table(report))
    for kind, path in write_report(report, out_dir).items():
        console.print(f"{kind}: {path}")
    return 0

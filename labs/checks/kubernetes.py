"""Lesson 4 checks: scaling, blue/green, a rolling update and an Ingress, read from the API."""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from labs.checks.core import CheckContext, CheckFailed, register

LESSON = 4
API = "api"
REPLICAS = 3
NEW_TAG = "2.0"
COLOURS = ("api-blue", "api-green")


def _deployment(ctx: CheckContext, name: str) -> Any:
    try:
        return client.AppsV1Api(ctx.need_api()).read_namespaced_deployment(name, ctx.namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise CheckFailed(f"there is no Deployment {name} in {ctx.namespace}") from None
        raise


def _counts(dep: Any) -> dict[str, int]:
    st = dep.status
    return {
        "replicas": dep.spec.replicas if dep.spec.replicas is not None else 1,
        "ready": (st.ready_replicas or 0) if st else 0,
        "updated": (st.updated_replicas or 0) if st else 0,
        "available": (st.available_replicas or 0) if st else 0,
        "status_replicas": (st.replicas or 0) if st else 0,
    }


@register(LESSON, "k8s.scaled", f"Deployment {API} runs {REPLICAS} ready replicas",
          f"kubectl scale deployment/{API} --replicas={REPLICAS}, then "
          f"kubectl rollout status deployment/{API}")
def scaled(ctx: CheckContext) -> str:
    c = _counts(_deployment(ctx, API))
    if c["replicas"] != REPLICAS:
        raise CheckFailed(f"{API} asks for {c['replicas']} replica(s), not {REPLICAS}")
    if c["ready"] != REPLICAS:
        raise CheckFailed(f"{c['ready']}/{REPLICAS} replicas of {API} are ready")
    return f"{c['ready']}/{REPLICAS} ready"


def _pod_ready(pod: Any) -> bool:
    return any(cond.type == "Ready" and cond.status == "True"
               for cond in (pod.status.conditions or []) if pod.status)


@register(LESSON, "k8s.blue-green", f"Service {API} points at {COLOURS[0]} or {COLOURS[1]}",
          f"create Deployments {COLOURS[0]} and {COLOURS[1]} whose pods carry distinct labels "
          f"(e.g. track: blue / track: green), then kubectl patch service {API} so its "
          "selector matches one of them")
def blue_green(ctx: CheckContext) -> str:
    deps = {name: _deployment(ctx, name) for name in COLOURS}
    core = client.CoreV1Api(ctx.need_api())
    try:
        svc = core.read_namespaced_service(API, ctx.namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise CheckFailed(f"there is no Service {API} in {ctx.namespace}") from None
        raise
    selector: dict[str, str] = svc.spec.selector or {}
    if not selector:
        raise CheckFailed(f"Service {API} has no selector")

    def selects(dep: Any) -> bool:
        labels = dep.spec.template.metadata.labels or {}
        return all(labels.get(k) == v for k, v in selector.items())

    chosen = [name for name, dep in deps.items() if selects(dep)]
    shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    if not chosen:
        raise CheckFailed(f"Service {API} selects {shown}: neither {' nor '.join(COLOURS)}")
    if len(chosen) > 1:
        raise CheckFailed(f"Service {API} selects {shown}, which matches both {COLOURS[0]} "
                          f"and {COLOURS[1]}: give their pods a label that differs")
    live = chosen[0]
    pods = core.list_namespaced_pod(ctx.namespace, label_selector=shown).items
    pods = [p for p in pods if p.metadata.deletion_timestamp is None]
    if not pods:
        raise CheckFailed(f"Service {API} selects {live}, but no pod of it exists")
    ready = sum(1 for p in pods if _pod_ready(p))
    if ready != len(pods):
        raise CheckFailed(f"Service {API} selects {live}: {ready}/{len(pods)} pods ready")
    idle = next(n for n in COLOURS if n != live)
    return f"{API} → {live} ({ready}/{len(pods)} pods ready); {idle} is on standby"


@register(LESSON, "k8s.rolling-update", f"Deployment {API} rolled out image tag {NEW_TAG}",
          f"kubectl set image deployment/{API} api=<registry>/prodev-labs/api:{NEW_TAG}, then "
          f"kubectl rollout status deployment/{API}")
def rolling_update(ctx: CheckContext) -> str:
    dep = _deployment(ctx, API)
    images = [c.image for c in dep.spec.template.spec.containers]
    main = next((c.image for c in dep.spec.template.spec.containers if c.name == API),
                images[0])
    if not main.endswith(f":{NEW_TAG}"):
        raise CheckFailed(f"{API} runs {main}; its tag should be {NEW_TAG}")
    c = _counts(dep)
    observed = (dep.status.observed_generation or 0) if dep.status else 0
    if observed < (dep.metadata.generation or 0):
        raise CheckFailed("the Deployment controller has not seen the latest spec yet")
    if not (c["updated"] == c["replicas"] == c["available"] == c["status_replicas"]):
        raise CheckFailed(f"rollout in progress: {c['updated']} updated, {c['available']} "
                          f"available, {c['status_replicas']} running, {c['replicas']} wanted")
    return f"{main}: {c['updated']}/{c['replicas']} updated and available"


def _is_api_path(path: str | None) -> bool:
    return (path or "").rstrip("/") == "/api" or (path or "").startswith("/api/")


@register(LESSON, "k8s.ingress", f"an Ingress routes /api/ to Service {API}",
          f"create an Ingress (e.g. api-routes) with a rule path /api/ (pathType Prefix) whose "
          f"backend is service {API}, port 80; keep the lab's own Ingress as it is")
def ingress(ctx: CheckContext) -> str:
    net = client.NetworkingV1Api(ctx.need_api())
    found: list[str] = []
    elsewhere: list[str] = []
    for ing in net.list_namespaced_ingress(ctx.namespace).items:
        for rule in ing.spec.rules or []:
            for p in (rule.http.paths if rule.http else []) or []:
                if not _is_api_path(p.path):
                    continue
                backend = p.backend.service.name if p.backend and p.backend.service else None
                where = f"{ing.metadata.name}: {rule.host or '*'}{p.path}"
                (found if backend == API else elsewhere).append(f"{where} → {backend}")
    if found:
        return "; ".join(found)
    if elsewhere:
        raise CheckFailed("/api/ goes to another backend: " + "; ".join(elsewhere))
    raise CheckFailed(f"no Ingress in {ctx.namespace} has a /api/ path")

"""Reference solution of lesson 4, done with the Kubernetes client (what the guide's kubectl
commands do), step by step in the guide's order: scale `api` to 3, roll it out to tag 2.0,
add api-blue/api-green and point Service `api` at green, and route /api/ through an Ingress.

The image tag 2.0 must exist in the registry first (the guide's step 1 pushes it); the new
image is the running one with its tag replaced (labs.spec.with_tag), whatever that tag was:
`latest`, a learner's namespace, or an offline build's content ID.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from infra.labels import NAME
from labs.spec import with_tag

TRACK = "labs.prodev.dev/track"
NEW_TAG = "2.0"
REPLICAS = 3
API = "api"
LAB_INGRESS = "api"  # the lab's own Ingress, whose host the /api/ route shares


def api_image(api: client.ApiClient, namespace: str, deployment: str = API) -> str:
    dep = client.AppsV1Api(api).read_namespaced_deployment(deployment, namespace)
    return next(c.image for c in dep.spec.template.spec.containers if c.name == API)


def scale(api: client.ApiClient, namespace: str, replicas: int = REPLICAS) -> None:
    """kubectl scale deployment/api --replicas=3"""
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        API, namespace, {"spec": {"replicas": replicas}})


def roll_out(api: client.ApiClient, namespace: str, tag: str = NEW_TAG) -> tuple[str, str]:
    """kubectl set image deployment/api api=<image>:2.0; the old and the new image."""
    old = api_image(api, namespace)
    new = with_tag(old, tag)
    client.AppsV1Api(api).patch_namespaced_deployment(API, namespace, {"spec": {"template": {
        "spec": {"containers": [{"name": API, "image": new}]}}}})
    return old, new


def _colour(template: Any, name: str, track: str, image: str, api: client.ApiClient) -> dict:
    pod = copy.deepcopy(api.sanitize_for_serialization(template))
    labels = dict(pod["metadata"].get("labels") or {})
    labels |= {NAME: name, TRACK: track}
    pod["metadata"] = {"labels": labels}
    for container in pod["spec"]["containers"]:
        if container["name"] == API:
            container["image"] = image
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {NAME: name, TRACK: track}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {NAME: name}},
                     "template": pod}}


def wait_ready(api: client.ApiClient, namespace: str, name: str, timeout: float) -> None:
    """Until Deployment `name` has all its replicas updated and ready (rollout status)."""
    apps = client.AppsV1Api(api)
    deadline = time.monotonic() + timeout
    while True:
        dep = apps.read_namespaced_deployment(name, namespace)
        st, want = dep.status, dep.spec.replicas
        if (st and (st.observed_generation or 0) >= (dep.metadata.generation or 0)
                and st.updated_replicas == want and st.ready_replicas == want
                and st.replicas == want):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Deployment {name} not ready after {timeout:.0f}s: {st}")
        time.sleep(1)


def blue_green(api: client.ApiClient, namespace: str, blue: str, green: str,
               ready_timeout: float | None = None) -> None:
    """api-blue (blue image) and api-green (green image), then Service api to green; with
    `ready_timeout`, only once green is ready (so no request meets an empty Service)."""
    apps = client.AppsV1Api(api)
    template = apps.read_namespaced_deployment(API, namespace).spec.template
    for name, track, image in (("api-blue", "blue", blue), ("api-green", "green", green)):
        apps.create_namespaced_deployment(namespace, _colour(template, name, track, image, api))
    if ready_timeout is not None:
        wait_ready(api, namespace, "api-green", ready_timeout)
    client.CoreV1Api(api).patch_namespaced_service(API, namespace, [
        {"op": "replace", "path": "/spec/selector", "value": {NAME: "api-green"}}])


def _lab_host(api: client.ApiClient, namespace: str) -> str | None:
    net = client.NetworkingV1Api(api)
    try:
        rules = net.read_namespaced_ingress(LAB_INGRESS, namespace).spec.rules or []
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return next((r.host for r in rules if r.host), None)


def route_api(api: client.ApiClient, namespace: str) -> None:
    """An Ingress api-routes sending /api/ to Service api, on the lab's host: a rule without
    a host would take /api/ of every host the ingress controller serves (other learners')."""
    port = client.CoreV1Api(api).read_namespaced_service(API, namespace).spec.ports[0].port
    rule: dict[str, Any] = {"http": {"paths": [{
        "path": "/api/", "pathType": "Prefix",
        "backend": {"service": {"name": API, "port": {"number": port}}}}]}}
    if host := _lab_host(api, namespace):
        rule["host"] = host
    client.NetworkingV1Api(api).create_namespaced_ingress(namespace, {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api-routes"}, "spec": {"rules": [rule]}})


def solve_lesson4(api: client.ApiClient, namespace: str,
                  ready_timeout: float | None = None) -> None:
    """Every step; with `ready_timeout`, each waits for its pods as `kubectl rollout status`
    would (without, the steps are only asked for and the checks see them land)."""
    scale(api, namespace)
    old, new = roll_out(api, namespace)
    if ready_timeout is not None:
        wait_ready(api, namespace, API, ready_timeout)
    blue_green(api, namespace, old, new, ready_timeout)
    route_api(api, namespace)

"""Reference solution of lesson 4, done with the Kubernetes client (what the guide's kubectl
commands do): scale `api` to 3, roll it to tag 2.0, add api-blue/api-green and point Service
`api` at green, and route /api/ through an Ingress.
"""

from __future__ import annotations

import copy
from typing import Any

from kubernetes import client

from infra.labels import NAME
from labs.spec import with_tag

TRACK = "labs.prodev.dev/track"
NEW_TAG = "2.0"


def _colour(template: Any, name: str, track: str, image: str, api: client.ApiClient) -> dict:
    pod = copy.deepcopy(api.sanitize_for_serialization(template))
    labels = dict(pod["metadata"].get("labels") or {})
    labels |= {NAME: name, TRACK: track}
    pod["metadata"] = {"labels": labels}
    for container in pod["spec"]["containers"]:
        if container["name"] == "api":
            container["image"] = image
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {NAME: name, TRACK: track}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {NAME: name}},
                     "template": pod}}


def solve_lesson4(api: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    net = client.NetworkingV1Api(api)

    dep = apps.read_namespaced_deployment("api", namespace)
    container = next(c for c in dep.spec.template.spec.containers if c.name == "api")
    old_image = container.image
    new_image = with_tag(old_image, NEW_TAG)

    # Scale to 3 and roll out the new tag (kubectl scale / kubectl set image).
    apps.patch_namespaced_deployment("api", namespace, {"spec": {
        "replicas": 3,
        "template": {"spec": {"containers": [{"name": "api", "image": new_image}]}}}})

    # Blue (current image) and green (new image), then switch the Service to green.
    for name, track, image in (("api-blue", "blue", old_image),
                               ("api-green", "green", new_image)):
        body = _colour(dep.spec.template, name, track, image, api)
        apps.create_namespaced_deployment(namespace, body)
    core.patch_namespaced_service("api", namespace, [
        {"op": "replace", "path": "/spec/selector", "value": {NAME: "api-green"}}])

    # An Ingress routing /api/ to Service api.
    svc = core.read_namespaced_service("api", namespace)
    port = svc.spec.ports[0].port
    net.create_namespaced_ingress(namespace, {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api-routes"},
        "spec": {"rules": [{"http": {"paths": [{
            "path": "/api/", "pathType": "Prefix",
            "backend": {"service": {"name": "api", "port": {"number": port}}}}]}}]}})

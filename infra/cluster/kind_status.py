"""`cluster status --driver kind`: nodes, add-ons, the registry and how the cluster was made."""

from __future__ import annotations

from typing import Any

from infra.cluster import kind


def kind_status(name: str) -> dict[str, Any]:
    info = kind.recorded(name)
    out: dict[str, Any] = {
        "name": name, "running": kind.exists(name), "images": info.get("images"),
        "node_image": info.get("node_image"),
        "host_workarounds": info.get("host_workarounds", []), "nodes": [], "addons": [],
        "nodes_ready": 0, "nodes_total": 0,
        "registry_running": bool(kind._run("docker", "ps", "-q", "-f",
                                           f"name=^{kind.REGISTRY}$", check=False).strip()),
    }
    if not out["running"] or not kind.kubeconfig_path(name).is_file():
        return out
    from kubernetes import client

    from infra.cluster.addons import addons
    from infra.kubeconfig import admin_client

    api = admin_client(kind.kubeconfig_path(name))
    for node in client.CoreV1Api(api).list_node().items:
        ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
        out["nodes"].append({"name": node.metadata.name, "ready": ready})
    out["nodes_total"] = len(out["nodes"])
    out["nodes_ready"] = sum(n["ready"] for n in out["nodes"])
    apps = client.AppsV1Api(api)
    for addon in addons():
        try:
            dep = apps.read_namespaced_deployment(addon.deployment, addon.namespace)
            ready, desired = dep.status.ready_replicas or 0, dep.spec.replicas or 0
        except client.ApiException:
            ready, desired = 0, 1
        out["addons"].append({"name": addon.name, "ready": ready, "desired": desired})
    return out

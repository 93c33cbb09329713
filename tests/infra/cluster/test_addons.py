"""Cluster add-ons: schema-valid manifests, and a real API server accepts every object."""

from __future__ import annotations

import kubernetes_validate
import pytest

from infra.cluster.addons import AddonVersions, addons, apply
from tests.infra.test_render import K8S_VERSION


@pytest.mark.unit
def test_addon_manifests_pass_strict_schema_validation() -> None:
    for addon in addons():
        for obj in addon.objects:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.unit
def test_metrics_server_serves_the_metrics_api_and_traefik_is_the_default_class() -> None:
    by_name = {a.name: a for a in addons(AddonVersions(metrics_server="v9", traefik="v8"))}
    ms = {(o["kind"], o["metadata"]["name"]): o for o in by_name["metrics-server"].objects}
    service = ms[("APIService", "v1beta1.metrics.k8s.io")]["spec"]["service"]
    assert service == {"name": "metrics-server", "namespace": "kube-system"}
    container = ms[("Deployment", "metrics-server")]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":v9") and "--kubelet-insecure-tls" in container["args"]

    tr = {(o["kind"], o["metadata"]["name"]): o for o in by_name["traefik"].objects}
    klass = tr[("IngressClass", "traefik")]
    assert klass["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == \
        "true"
    pod = tr[("Deployment", "traefik")]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"ingress-ready": "true"}
    assert {p["hostPort"] for p in pod["containers"][0]["ports"] if "hostPort" in p} == {80, 443}


@pytest.mark.e2e
def test_the_api_server_accepts_every_addon_object(sim_cluster) -> None:
    """Server-side dry run: admission, RBAC escalation rules and schema of a real apiserver,
    without registering an APIService that nothing serves on the shared test cluster."""
    from infra.kubeconfig import admin_client

    api = admin_client(sim_cluster.kubeconfig_path, None)
    # The dry run of namespaced objects needs their namespace to exist for real.
    apply(api, [o for a in addons() for o in a.objects if o["kind"] == "Namespace"])
    for addon in addons():
        names = apply(api, addon.objects, dry_run=True)
        assert len(names) == len(addon.objects)

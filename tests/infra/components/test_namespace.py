"""LearnerNamespace: Pod Security, quota, limits, network policies and learner RBAC."""

from __future__ import annotations

from infra.components.namespace import LEARNER_RULES
from tests.infra.conftest import find, rendered, spec_for


def test_pod_security_enforces_baseline_and_warns_restricted() -> None:
    labels = find(rendered(4), "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_quota_and_limits_come_from_the_lesson_profile() -> None:
    profile = spec_for(8).profile
    objects = rendered(8)
    assert find(objects, "ResourceQuota")["spec"]["hard"] == dict(profile.quota)
    [limit] = find(objects, "LimitRange")["spec"]["limits"]
    assert limit["max"] == {"cpu": profile.container_max_cpu,
                            "memory": profile.container_max_memory}
    assert limit["defaultRequest"]["cpu"] == profile.container_default.cpu_request


def test_network_policies_deny_by_default_then_open_what_is_needed() -> None:
    policies = {o["metadata"]["name"]: o["spec"] for o in rendered(4)
                if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns_ports = {p["port"] for p in policies["allow-dns"]["egress"][0]["ports"]}
    assert dns_ports == {53}
    ingress_from = policies["allow-ingress-controller"]["ingress"][0]["from"][0]
    assert ingress_from["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "traefik"}
    internet = policies["allow-internet-egress"]
    assert internet["podSelector"]["matchLabels"] == {"labs.prodev.dev/egress": "internet"}
    assert "10.0.0.0/8" in internet["egress"][0]["to"][0]["ipBlock"]["except"]


def test_only_ci_runner_and_a_real_payment_client_reach_the_internet() -> None:
    def internet_pods(objects: list[dict]) -> set[str]:
        return {o["metadata"]["name"] for o in objects
                if o["kind"] in {"Deployment", "StatefulSet"}
                and o["spec"]["template"]["metadata"]["labels"].get(
                    "labs.prodev.dev/egress") == "internet"}
    assert internet_pods(rendered(5)) == {"jenkins", "api"}
    assert internet_pods(rendered(6)) == set()  # sandbox in-cluster: no way out


def test_learner_role_cannot_touch_rbac_quotas_or_policies() -> None:
    role = find(rendered(4), "Role")
    assert role["rules"]
    writes = {(g, r) for rule in LEARNER_RULES for g in rule["api_groups"]
              for r in rule["resources"] if "create" in rule["verbs"]}
    for forbidden in [("rbac.authorization.k8s.io", "roles"),
                      ("rbac.authorization.k8s.io", "rolebindings"), ("", "resourcequotas"),
                      ("", "limitranges"), ("networking.k8s.io", "networkpolicies"),
                      # hand-made Endpoints could point an Ingress at another learner's pods
                      ("", "endpoints"), ("discovery.k8s.io", "endpointslices")]:
        assert forbidden not in writes
    assert ("apps", "deployments") in writes
    binding = find(rendered(4), "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "learner",
                                    "namespace": "c1-abebe"}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]

"""LearnerNamespace: the namespace and its guardrails (quota, limits, network, RBAC).

Everything else of a learner lives inside it and is parented to the environment, so this
component is created first and the others depend on it.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra.labels import EGRESS, OWNED, object_labels
from labs.spec import LabSpec

# Private and link-local ranges: "egress to the internet" never means other cluster networks.
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]
LEARNER_ACCOUNT = "learner"

# What the learner may do in their own namespace: run and change workloads, read their logs,
# port-forward and exec. Nothing about RBAC, quotas, limit ranges or network policies.
# Endpoints are read-only: hand-written ones (a Service without a selector, mirrored into
# EndpointSlices) could name another learner's pod IPs, and the ingress controller, which every
# namespace admits, would then carry an Ingress of theirs to that learner's pods.
LEARNER_RULES = [
    {"api_groups": [""],
     "resources": ["pods", "pods/log", "pods/exec", "pods/portforward", "services",
                   "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts",
                   "events"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch"]},
    {"api_groups": ["apps"],
     "resources": ["deployments", "deployments/scale", "statefulsets", "statefulsets/scale",
                   "replicasets", "controllerrevisions"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": ["batch"], "resources": ["jobs", "cronjobs"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": ["networking.k8s.io"], "resources": ["ingresses"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": ["policy"], "resources": ["poddisruptionbudgets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"api_groups": [""], "resources": ["resourcequotas", "limitranges"],
     "verbs": ["get", "list", "watch"]},
    {"api_groups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
]


class LearnerNamespace(pulumi.ComponentResource):
    """Namespace `<cohort>-<learner>` with Pod Security labels, quota, limits, policies, RBAC."""

    name: pulumi.Output[str]
    service_account: pulumi.Output[str]

    def __init__(self, name: str, spec: LabSpec,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:LearnerNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns_name = spec.namespace
        profile = spec.profile

        def meta(obj: str, component: str = "guardrails") -> dict:
            return {"name": obj, "namespace": ns_name,
                    "labels": object_labels(spec, obj, component), "annotations": dict(OWNED)}

        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns_name,
                "labels": {
                    **object_labels(spec, ns_name, "guardrails"),
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/warn-version": "latest",
                },
                "annotations": {**OWNED, **({"labs.prodev.dev/expires": spec.expires.isoformat()}
                                            if spec.expires else {})},
            },
            opts=child,
        )
        # Everything below lives in the namespace: wait for it.
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])

        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=meta("learner-quota"),
            spec={"hard": dict(profile.quota)}, opts=inside)
        default = profile.container_default
        self.limits = k8s.core.v1.LimitRange(
            f"{name}-limits", metadata=meta("learner-limits"),
            spec={"limits": [{
                "type": "Container",
                "default": {"cpu": default.cpu_limit, "memory": default.memory_limit},
                "default_request": {"cpu": default.cpu_request,
                                    "memory": default.memory_request},
                "max": {"cpu": profile.container_max_cpu,
                        "memory": profile.container_max_memory},
            }]},
            opts=inside)

        self.policies = [
            k8s.networking.v1.NetworkPolicy(f"{name}-{pol_name}", metadata=meta(pol_name),
                                            spec=pol_spec, opts=inside)
            for pol_name, pol_spec in network_policies(spec).items()
        ]

        self.account = k8s.core.v1.ServiceAccount(
            f"{name}-learner-sa", metadata=meta(LEARNER_ACCOUNT, "access"), opts=inside)
        self.role = k8s.rbac.v1.Role(
            f"{name}-learner-role", metadata=meta("learner-workloads", "access"),
            rules=LEARNER_RULES, opts=inside)
        self.binding = k8s.rbac.v1.RoleBinding(
            f"{name}-learner-binding", metadata=meta("learner-workloads", "access"),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role",
                      "name": "learner-workloads"},
            subjects=[{"kind": "ServiceAccount", "name": LEARNER_ACCOUNT,
                       "namespace": ns_name}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role, self.account]))

        self.name = self.namespace.metadata.apply(lambda m: m["name"])
        self.service_account = pulumi.Output.from_input(LEARNER_ACCOUNT)
        self.register_outputs({"name": self.name, "serviceAccount": self.service_account})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """Resources a workload must wait for (namespace, quota and limit defaults)."""
        return [self.namespace, self.quota, self.limits]


def network_policies(spec: LabSpec) -> dict[str, dict]:
    """Default deny, then DNS, same-namespace, ingress controller and opted-in internet."""
    return {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-dns": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [{
                "to": [{"namespace_selector": {},
                        "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }],
        },
        "allow-same-namespace": {
            "pod_selector": {},
            "policy_types": ["Ingress", "Egress"],
            "ingress": [{"from": [{"pod_selector": {}}]}],
            "egress": [{"to": [{"pod_selector": {}}]}],
        },
        "allow-ingress-controller": {
            "pod_selector": {},
            "policy_types": ["Ingress"],
            "ingress": [{"from": [{"namespace_selector": {"match_labels": {
                "kubernetes.io/metadata.name": spec.ingress_namespace}}}]}],
        },
        "allow-internet-egress": {
            "pod_selector": {"match_labels": {EGRESS: "internet"}},
            "policy_types": ["Egress"],
            "egress": [{"to": [{"ip_block": {"cidr": "0.0.0.0/0",
                                             "except": PRIVATE_RANGES}}]}],
        },
    }

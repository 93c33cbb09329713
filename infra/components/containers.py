"""Building blocks shared by the workload components: security context, probes, resources."""

from __future__ import annotations

from typing import Any

from labs.catalog import Resources


def restricted_context(uid: int, read_only_root: bool = False) -> dict[str, Any]:
    """A container securityContext that passes the `restricted` Pod Security Standard."""
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def pod_context(uid: int) -> dict[str, Any]:
    """Pod-level securityContext: volumes owned by the image's user."""
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        "fs_group": uid,
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def http_probe(path: str, port: int | str, *, delay: int = 5, period: int = 10,
               failures: int = 3, host: str | None = None) -> dict[str, Any]:
    """`host`: the Host header to send (the kubelet sends the pod IP, which Django's
    ALLOWED_HOSTS rightly refuses)."""
    get: dict[str, Any] = {"path": path, "port": port}
    if host:
        get["http_headers"] = [{"name": "Host", "value": host}]
    return {"http_get": get, "initial_delay_seconds": delay,
            "period_seconds": period, "failure_threshold": failures, "timeout_seconds": 3}


def exec_probe(command: list[str], *, delay: int = 10, period: int = 15,
               failures: int = 3, timeout: int = 5) -> dict[str, Any]:
    return {"exec": {"command": command}, "initial_delay_seconds": delay,
            "period_seconds": period, "failure_threshold": failures, "timeout_seconds": timeout}


def tcp_probe(port: int | str, *, delay: int = 5, period: int = 10) -> dict[str, Any]:
    return {"tcp_socket": {"port": port}, "initial_delay_seconds": delay,
            "period_seconds": period}


def resources(res: Resources) -> dict[str, dict[str, str]]:
    return res.as_k8s()


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}

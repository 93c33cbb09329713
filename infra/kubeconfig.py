"""Kubeconfigs scoped to one learner's namespace, with a token from the TokenRequest API."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from infra.components.namespace import LEARNER_ACCOUNT


def admin_client(kubeconfig: Path, context: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


def learner_kubeconfig(api: client.ApiClient, namespace: str, *,
                       expiry_seconds: int = 8 * 3600) -> dict[str, Any]:
    """A kubeconfig for the namespace's `learner` ServiceAccount (expires with its token)."""
    core = client.CoreV1Api(api)
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiry_seconds))
    token = core.create_namespaced_service_account_token(LEARNER_ACCOUNT, namespace,
                                                         request).status.token
    conf = api.configuration
    cluster: dict[str, Any] = {"server": conf.host}
    if conf.ssl_ca_cert:
        ca = Path(conf.ssl_ca_cert).read_bytes()
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    elif not conf.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    name = f"prodev-labs-{namespace}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": f"{namespace}-learner", "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "namespace": namespace,
                                                 "user": f"{namespace}-learner"}}],
        "current-context": name,
    }


def write_kubeconfig(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)
    return path

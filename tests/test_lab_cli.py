"""e2e: a learner's commands as the README writes them, against the simulated cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client, config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


def test_lab_up_status_kubeconfig_down(sim_cluster, tmp_path) -> None:
    env = {**os.environ, "PRODEV_LABS_STATE": str(tmp_path / "state"),
           "KUBECONFIG": str(sim_cluster.kubeconfig_path)}
    context = config.list_kube_config_contexts(str(sim_cluster.kubeconfig_path))[1]["name"]

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "lab", *args, "--lesson", "4",
                               "--learner", "cli", "--context", context],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)

    up = invoke("up")
    assert up.returncode == 0, up.stderr[-3000:]
    assert "port-forward svc/api 8000:80" in up.stderr

    status = invoke("status", "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    rows = json.loads(status.stdout)
    assert {r["name"] for r in rows} == {"api", "worker", "postgres", "rabbitmq"}
    assert all(r["is_ready"] for r in rows)

    kubeconfig = tmp_path / "cli.yaml"
    written = invoke("kubeconfig", "--out", str(kubeconfig), "--expiry", "1")
    assert written.returncode == 0, written.stderr[-2000:]
    learner = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    assert learner.list_namespaced_pod("local-cli").items

    down = invoke("down")
    assert down.returncode == 0, down.stderr[-2000:]
    after = invoke("status", "--json")
    assert after.returncode == 1 and json.loads(after.stdout) == []

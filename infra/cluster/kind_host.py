"""What this Docker host needs for kind nodes, detected rather than assumed.

- cgroup v1: kubelet 1.35 refuses it unless ``failCgroupV1: false`` (a kubeadm patch).
- ``--privileged`` refused (a VM whose capability bounding set lacks CAP_SYS_RESOURCE: runc
  says "unable to apply caps"): kind's node containers run instead with every capability but
  that one, writable cgroups mounted by the node image's pre-entrypoint; a ``docker`` shim on
  kind's PATH rewrites kind's ``--privileged``.
- Without CAP_SYS_RESOURCE a pod sandbox cannot lower its OOM score, so containerd in the node
  must clamp it (``restrict_oom_score_adj = true``).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# Every capability but CAP_SYS_RESOURCE, all devices, unmasked /proc and /sys paths: what
# --privileged gives a kind node, less what this host cannot grant.
UNPRIVILEGED_NODE_ARGS = (
    "--cap-add=ALL", "--cap-drop=SYS_RESOURCE", "--security-opt", "systempaths=unconfined",
    "--device-cgroup-rule", "a *:* rwm", "--device", "/dev/kmsg",
    "-e", "PRODEV_REMOUNT_CGROUPS=1",
)


@dataclass(frozen=True)
class HostQuirks:
    cgroup_v1: bool
    privileged_refused: bool

    @property
    def applied(self) -> list[str]:
        """One line per workaround in force, for `cluster up` and `cluster status`."""
        out = []
        if self.cgroup_v1:
            out.append("cgroup v1 host: kubelet runs with failCgroupV1: false")
        if self.privileged_refused:
            out.append("--privileged refused by this host: nodes run with all capabilities "
                       "but CAP_SYS_RESOURCE, cgroups remounted writable in the node")
            out.append("containerd in the node clamps OOM scores (restrict_oom_score_adj)")
        return out

    def as_dict(self) -> dict[str, bool]:
        return {"cgroup_v1": self.cgroup_v1, "privileged_refused": self.privileged_refused}


def detect(probe_image: str) -> HostQuirks:
    """Ask the engine: its cgroup version, and whether a privileged container starts."""
    info = subprocess.run(["docker", "info", "--format", "{{.CgroupVersion}}"],
                          capture_output=True, text=True, check=False)
    probe = subprocess.run(["docker", "run", "--rm", "--privileged", "--entrypoint", "true",
                            probe_image], capture_output=True, text=True, check=False)
    refused = probe.returncode != 0 and "apply caps" in probe.stderr
    if probe.returncode != 0 and not refused:
        raise RuntimeError(f"docker could not run {probe_image}: {probe.stderr.strip()[-400:]}")
    return HostQuirks(cgroup_v1=info.stdout.strip() == "1", privileged_refused=refused)


SHIM = """#!/bin/bash
# prodev-labs: this Docker host refuses --privileged; kind's node containers get every
# capability but CAP_SYS_RESOURCE instead (infra/cluster/kind_host.py). Other calls pass through.
args=()
sub="${{1:-}}"
for a in "$@"; do
  if [[ "$a" == "--privileged" ]]; then
    if [[ "$sub" == "run" || "$sub" == "create" ]]; then args+=({node_args}); fi
    continue
  fi
  args+=("$a")
done
exec {docker} "${{args[@]}}"
"""


def write_docker_shim(directory: Path, real_docker: str) -> Path:
    """A ``docker`` for kind's PATH that swaps --privileged for :data:`UNPRIVILEGED_NODE_ARGS`
    (and drops it from ``docker exec``, whose processes get the container's capabilities)."""
    directory.mkdir(parents=True, exist_ok=True)
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in UNPRIVILEGED_NODE_ARGS)
    shim = directory / "docker"
    shim.write_text(SHIM.format(node_args=quoted, docker=real_docker))
    shim.chmod(0o755)
    return shim

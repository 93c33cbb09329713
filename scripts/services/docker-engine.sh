#!/usr/bin/env bash
# A Docker engine for the kind tier: Debian's docker.io, installed and started as root when none
# answers (CI machines have only the client). Leaves an engine that already answers alone.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "no Docker engine answers: start Docker (or run this as root to start Debian's)" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io \
    >/dev/null
fi
log=/var/log/prodev-labs-dockerd.log
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "dockerd did not answer within 60 s; see $log" >&2
exit 1

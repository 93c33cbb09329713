#!/usr/bin/env bash
# Everything the test tiers need beyond `pip install -e '.[dev]'`: Debian's Postgres and
# RabbitMQ servers (started per test session on loopback, never as system services) and the
# sample app's Python requirements. Safe to re-run; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || need_apt+=(rabbitmq-server)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install ${need_apt[*]} first (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # Debian starts them as system services; the tests run their own on free ports.
  for svc in postgresql rabbitmq-server; do
    (service "$svc" stop || true) >/dev/null 2>&1
  done
fi

if [ -f labs/app/requirements-dev.txt ]; then
  python -m pip install -q -r labs/app/requirements-dev.txt
fi

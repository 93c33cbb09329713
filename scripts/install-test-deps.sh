#!/usr/bin/env bash
# Everything the test tiers need beyond `pip install -e '.[dev]'`: Debian's Postgres and
# RabbitMQ servers (started per test session on loopback, never as system services) and the
# sample app's Python requirements. Safe to re-run; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || need_apt+=(rabbitmq-server)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)  # the API benchmark's load generator
# The kind tier: an engine (Debian's docker.io), debootstrap for the kit's root filesystems,
# busybox-static for its helper image, gcc for the pause binary.
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install ${need_apt[*]} first (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # Debian starts them as system services; the tests run their own on free ports.
  for svc in postgresql rabbitmq-server docker; do
    (service "$svc" stop || true) >/dev/null 2>&1
  done
fi

# The sample app runs Django 6, which needs Python >= 3.12: it gets a virtualenv of its own
# (labs/app/.venv), as it has an image of its own.
if [ ! -x labs/app/.venv/bin/python ]; then
  app_python=""
  for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python \
                   "$HOME"/.pyenv/versions/3.12*/bin/python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      app_python=$(command -v "$candidate"); break
    fi
  done
  if [ -z "$app_python" ]; then
    echo "the sample app needs Python >= 3.12 (apt-get install python3.12, or pyenv)" >&2
    exit 1
  fi
  "$app_python" -m venv labs/app/.venv
fi
labs/app/.venv/bin/python -m pip install -q --upgrade pip
labs/app/.venv/bin/python -m pip install -q -r labs/app/requirements-dev.txt

# A Docker engine for the kind tier (started here when none answers).
bash scripts/services/docker-engine.sh

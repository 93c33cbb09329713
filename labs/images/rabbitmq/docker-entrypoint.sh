#!/bin/sh
# The official rabbitmq image's settings: RABBITMQ_DEFAULT_USER/PASS/VHOST become the default
# user and vhost, listeners on 5672 (AMQP) and 15672 (management) on every address.
set -eu
conf=/etc/rabbitmq/conf.d/10-defaults.conf
{
  echo "loopback_users.guest = false"
  echo "listeners.tcp.default = 5672"
  echo "management.tcp.port = 15672"
  [ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER"
  [ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS"
  [ -z "${RABBITMQ_DEFAULT_VHOST:-}" ] || echo "default_vhost = $RABBITMQ_DEFAULT_VHOST"
} > "$conf"
chmod 600 "$conf"
exec "$@"

#!/usr/bin/env bash
# Runs every test. Without RABBITMQ_URI it starts a throwaway RabbitMQ node on loopback
# (installing rabbitmq-server from Debian when missing) and stops it on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/broker.sh

if [ -z "${RABBITMQ_URI:-}" ]; then
  trap stop_broker EXIT
  trap 'exit 130' INT TERM
  start_broker "notif-test-$$" "$(free_port)"
  export RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$BROKER_AMQP_PORT/"
  # Fault tests stop and start this node through these.
  export RABBITMQ_TEST_NODE="$BROKER_NODE" RABBITMQ_TEST_DIR="$BROKER_DIR"
  echo "RabbitMQ node $BROKER_NODE on 127.0.0.1:$BROKER_AMQP_PORT" >&2
fi

log=$(mktemp)
set +e
dotnet test Notifications.sln "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line over every test assembly, for readers that do not know dotnet test's summary.
awk '/^(Passed|Failed)! +- /{
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       seen = 1 }
     END { if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"

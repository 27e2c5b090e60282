#!/usr/bin/env bash
# Runs every test. Without RABBITMQ_URI it starts a throwaway RabbitMQ node on loopback
# (installing rabbitmq-server from Debian when missing) and stops it on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/broker.sh
. scripts/lib/postgres.sh

redis_pid=
tls_dir=
cluster_started=
cleanup() {
  [ -n "$cluster_started" ] && scripts/cluster.sh down > /dev/null 2>&1
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  [ -n "$tls_dir" ] && rm -rf "$tls_dir"
  stop_fault_broker
  stop_broker
  stop_postgres
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${RABBITMQ_URI:-}" ]; then
  start_broker_on_free_port "notif-test-$$"
  export RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$BROKER_AMQP_PORT/"
  export RABBITMQ_LOG_DIR="$BROKER_DIR/log" # tests read the broker's own account of what they did
  echo "RabbitMQ node $BROKER_NODE on 127.0.0.1:$BROKER_AMQP_PORT" >&2
fi

# A second node only for the broker-restart, alarm and TLS tests (they take turns), which stop and start it
# while the others run. It also listens for AMQPS, with a CA and certificate made here by openssl.
if [ -z "${RABBITMQ_FAULT_URI:-}" ]; then
  ensure_rabbitmq_installed
  tls_dir=$(mktemp -d /tmp/notif-tls.XXXXXX)
  make_test_certificates "$tls_dir"
  for try in 1 2 3; do
    tls_port=$(free_port)
    tls_listener_conf "$tls_dir" "$tls_port" > "$tls_dir/listener.conf"
    start_fault_broker "notif-fault-$$" "$(free_port)" "$tls_dir/listener.conf" && break
    [ "$try" = 3 ] && exit 1
    echo "RabbitMQ fault node did not start (try $try of 3); trying other ports" >&2
  done
  export RABBITMQ_TLS_URI="amqps://guest:guest@127.0.0.1:$tls_port/"
  export RABBITMQ_TLS_CA="$tls_dir/ca.pem"
  export RABBITMQ_FAULT_URI="amqp://guest:guest@127.0.0.1:$FAULT_AMQP_PORT/"
  export RABBITMQ_FAULT_CTL="$PWD/scripts/lib/fault-ctl.sh $FAULT_NODE $FAULT_DIR"
  echo "RabbitMQ fault node $FAULT_NODE on 127.0.0.1:$FAULT_AMQP_PORT" >&2
fi

# A three-node cluster for the failover test (ClusterTests), which kills and restarts its nodes.
if [ -z "${RABBITMQ_CLUSTER_HOSTS:-}" ]; then
  export NOTIFICATIONS_CLUSTER_DIR="/tmp/notif-cluster-$$"
  cluster_started=1
  scripts/cluster.sh up > /dev/null
  export RABBITMQ_CLUSTER_HOSTS="$(scripts/cluster.sh hosts)"
  echo "RabbitMQ cluster of 3 nodes on $RABBITMQ_CLUSTER_HOSTS" >&2
fi

# Redis for the shared job store's tests.
if [ -z "${REDIS_URI:-}" ]; then
  ensure_redis_installed
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --protected-mode yes > /dev/null &
  redis_pid=$!
  export REDIS_URI="127.0.0.1:$redis_port"
  echo "Redis on $REDIS_URI" >&2
fi

# PostgreSQL for the message log's store tests (the same tests as SQLite's) and its end-to-end test.
if [ -z "${POSTGRES_URI:-}" ]; then
  start_postgres
fi

# Redocly's CLI lints the OpenAPI document as a client generator's user would (OpenApiTests). Node comes with the machine.
if [ -z "${REDOCLY_CLI:-}" ]; then
  ensure_redocly_installed
  export REDOCLY_CLI="$PWD/.tools/redocly/node_modules/.bin/redocly"
fi

# An independent DKIM verifier for DkimTests, and a real MTA's bounces for PostfixBounceTests.
ensure_dkim_verifier_installed
ensure_postfix_installed
# Foreign SMTP clients for the submission tests (Python's smtplib comes with python3).
ensure_submission_clients_installed
# A real browser for the operator console's tests (ConsoleTests).
ensure_chromium_installed
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"

log=$(mktemp)
set +e
# A test that hangs is stopped after 5 minutes (no test takes 2) and named, instead of holding CI to its limit.
dotnet test Notifications.sln --blame-hang-timeout 5m --blame-hang-dump-type none "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line over every test assembly, for readers that do not know dotnet test's summary.
awk '/^(Passed|Failed)! +- /{
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1)); if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       seen = 1 }
     END { if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"

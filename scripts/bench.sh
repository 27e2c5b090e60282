#!/usr/bin/env bash
# The benchmark, run by hand: broker and relay ceilings, the real pipeline (API + worker, Release,
# their own processes), and the MassTransit peer, all in one run. Prints a Markdown table and writes
# every figure to bench/results/*.json. Without RABBITMQ_URI it starts (and removes) a throwaway node.
#   scripts/bench.sh [--count 20000] [--clients 64] [--large] [--relay-delay-ms 0] [--warm-up-seconds 30] [--memory-count 100000] [--log-messages 1000000] [--only STAGES] [--out FILE.json]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/broker.sh
. scripts/lib/postgres.sh

if [ -z "${RABBITMQ_URI:-}" ]; then
  trap stop_broker EXIT
  trap 'exit 130' INT TERM
  start_broker_on_free_port "notif-bench-$$"
  export RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$BROKER_AMQP_PORT/"
fi
# The cluster stage needs three nodes: started here (and removed) unless RABBITMQ_CLUSTER_HOSTS is set or --only leaves it out.
if [ -z "${RABBITMQ_CLUSTER_HOSTS:-}" ] && { [[ " $* " != *" --only "* ]] || [[ "$*" == *cluster* ]]; }; then
  export NOTIFICATIONS_CLUSTER_DIR="/tmp/notif-bench-cluster-$$"
  trap 'scripts/cluster.sh down > /dev/null 2>&1; stop_broker' EXIT
  scripts/cluster.sh up > /dev/null
  export RABBITMQ_CLUSTER_HOSTS="$(scripts/cluster.sh hosts)"
fi
# PostgreSQL for the message log's stage (its store and the pipeline with it), unless POSTGRES_URI is set or --only leaves it out.
if [ -z "${POSTGRES_URI:-}" ] && { [[ " $* " != *" --only "* ]] || [[ "$*" == *messagelog* ]]; }; then
  start_postgres
  trap 'stop_postgres; scripts/cluster.sh down > /dev/null 2>&1; stop_broker' EXIT
fi
dotnet build Notifications.sln -c Release -v quiet -nologo > /dev/null
dotnet bench/Notifications.Bench/bin/Release/net10.0/Notifications.Bench.dll "$@"

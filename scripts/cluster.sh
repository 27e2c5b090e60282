#!/usr/bin/env bash
# A throwaway three-node RabbitMQ cluster on loopback, from the Debian package (no Docker): one Erlang cookie,
# each node its own data folder and ports, nodes 2 and 3 joined to node 1. For the cluster tests and for trying it.
#   scripts/cluster.sh up             start and join the three nodes; prints RabbitMq__Hosts for the service
#   scripts/cluster.sh down           stop them and remove their data
#   scripts/cluster.sh kill N         kill node N (1-3) at once, as a crash would (kill -9)
#   scripts/cluster.sh stop N         stop node N cleanly
#   scripts/cluster.sh start N        start node N again with its data: it rejoins the cluster
#   scripts/cluster.sh lose N         node N lost for good: killed, its data removed, forgotten by the others
#   scripts/cluster.sh replace N      a new, empty node N joins again and every quorum queue grows a member on it
#   scripts/cluster.sh hosts          print the nodes as host:port,host:port,host:port
#   scripts/cluster.sh ctl N ARGS...  run rabbitmqctl against node N (e.g. list_queues name leader members)
# State lives in ${NOTIFICATIONS_CLUSTER_DIR:-/tmp/notifications-cluster}.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/broker.sh

STATE=${NOTIFICATIONS_CLUSTER_DIR:-/tmp/notifications-cluster}
NODES=(1 2 3)

node_name() { echo "notif-cluster-$1@localhost"; }
node_dir() { echo "$STATE/node$1"; }
node_port() { cat "$(node_dir "$1")/port"; }

ctl() {
  local n=$1; shift
  runuser -u rabbitmq -- env HOME="$(node_dir "$n")" ERL_EPMD_ADDRESS=127.0.0.1 "$RABBITMQ_BIN/rabbitmqctl" -n "$(node_name "$n")" "$@"
}

start_node() {
  local n=$1 dir port
  dir=$(node_dir "$n")
  port=$(node_port "$n")
  chown -R rabbitmq:rabbitmq "$dir"
  runuser -u rabbitmq -- env HOME="$dir" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT="$(cat "$dir/dist_port")" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    setsid "$RABBITMQ_BIN/rabbitmq-server" > "$dir/server.out" 2>&1 < /dev/null &
  local pid=$! deadline=$(( SECONDS + 120 ))
  until ctl "$n" --timeout 60 await_startup > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "cluster: node $n did not start; its output:" >&2
      tail -n 30 "$dir/server.out" "$dir"/log/*.log >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

# Ports are picked free, but another program may bind one before its node starts: then the cluster is made again.
up() {
  local try
  for try in 1 2 3; do
    up_once && return 0
    echo "cluster: start failed (try $try of 3); trying other ports" >&2
    down
  done
  return 1
}

up_once() {
  ensure_rabbitmq_installed
  if [ -d "$STATE" ]; then down; fi
  mkdir -p "$STATE"
  local cookie
  cookie=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
  for n in "${NODES[@]}"; do
    local dir
    dir=$(node_dir "$n")
    mkdir -p "$dir"
    free_port > "$dir/port"
    free_port > "$dir/dist_port"
    printf '%s' "$cookie" > "$dir/.erlang.cookie"
    {
      echo "listeners.tcp.1 = 127.0.0.1:$(cat "$dir/port")"
      echo "log.console = false"
      echo "log.file.level = warning"
    } > "$dir/rabbitmq.conf" # quorum queues get a member on every node of the cluster by default
    echo "[]." > "$dir/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$dir"
    chmod 700 "$dir"
    chmod 400 "$dir/.erlang.cookie"
  done
  # The nodes start one after another (a 2-core machine), then 2 and 3 join 1.
  for n in "${NODES[@]}"; do start_node "$n" || return 1; done
  for n in 2 3; do
    ctl "$n" stop_app > /dev/null || return 1
    ctl "$n" join_cluster "$(node_name 1)" > /dev/null || return 1
    ctl "$n" start_app > /dev/null || return 1
  done
  ctl 1 await_online_nodes 3 > /dev/null 2>&1 || true
  echo "cluster of 3 nodes up: $(hosts)" >&2
  echo "RabbitMq__Hosts__0=127.0.0.1:$(node_port 1) RabbitMq__Hosts__1=127.0.0.1:$(node_port 2) RabbitMq__Hosts__2=127.0.0.1:$(node_port 3)"
}

down() {
  [ -d "$STATE" ] || return 0
  for n in "${NODES[@]}"; do
    [ -d "$(node_dir "$n")" ] || continue
    ctl "$n" stop > /dev/null 2>&1 || kill_node "$n" || true
  done
  rm -rf "$STATE"
}

kill_node() {
  local pid
  pid=$(cat "$(node_dir "$1")/pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  # The beam's children (epmd is shared and stays).
  pkill -9 -f "notif-cluster-$1@localhost" 2>/dev/null || true
}

other_than() { for m in "${NODES[@]}"; do [ "$m" != "$1" ] && { echo "$m"; return; }; done; }

lose() {
  local n=$1 other
  other=$(other_than "$n")
  kill_node "$n"
  sleep 1
  rm -rf "$(node_dir "$n")/mnesia" "$(node_dir "$n")/log"
  ctl "$other" forget_cluster_node "$(node_name "$n")" > /dev/null
}

replace() {
  local n=$1 other
  other=$(other_than "$n")
  start_node "$n"
  ctl "$n" stop_app > /dev/null
  ctl "$n" reset > /dev/null
  ctl "$n" join_cluster "$(node_name "$other")" > /dev/null
  ctl "$n" start_app > /dev/null
  runuser -u rabbitmq -- env HOME="$(node_dir "$n")" ERL_EPMD_ADDRESS=127.0.0.1 \
    "$RABBITMQ_BIN/rabbitmq-queues" -n "$(node_name "$other")" grow "$(node_name "$n")" all > /dev/null
}

hosts() {
  local out=()
  for n in "${NODES[@]}"; do out+=("127.0.0.1:$(node_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kill) kill_node "$2" ;;
  stop) ctl "$2" stop > /dev/null ;;
  start) start_node "$2" ;;
  lose) lose "$2" ;;
  replace) replace "$2" ;;
  hosts) hosts ;;
  ctl) n=$2; shift 2; ctl "$n" "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# fault-ctl.sh NODE DIR stop|start — stops or starts the RabbitMQ application of the fault-test node
# (the Erlang node stays up, the broker goes down and comes back with its durable queues).
set -euo pipefail
node=$1 dir=$2 action=$3
case "$action" in
  stop) verb=stop_app ;;
  start) verb=start_app ;;
  *) echo "usage: fault-ctl.sh NODE DIR stop|start" >&2; exit 2 ;;
esac
runuser -u rabbitmq -- env HOME="$dir" ERL_EPMD_ADDRESS=127.0.0.1 /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" -q "$verb"

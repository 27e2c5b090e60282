#!/usr/bin/env bash
# fault-ctl.sh NODE DIR stop|start|alarm-on|alarm-off — the fault-test node: stop or start its RabbitMQ application
# (the Erlang node stays up, the broker goes down and comes back with its durable queues), or raise and clear a
# memory alarm (the broker blocks every publishing connection while it holds).
set -euo pipefail
node=$1 dir=$2 action=$3
case "$action" in
  stop) args=(stop_app) ;;
  start) args=(start_app) ;;
  alarm-on) args=(set_vm_memory_high_watermark 0.0000001) ;;
  alarm-off) args=(set_vm_memory_high_watermark 0.4) ;;
  *) echo "usage: fault-ctl.sh NODE DIR stop|start|alarm-on|alarm-off" >&2; exit 2 ;;
esac
runuser -u rabbitmq -- env HOME="$dir" ERL_EPMD_ADDRESS=127.0.0.1 /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" -q "${args[@]}"

#!/usr/bin/env bash
# Brings the whole stack up on this machine, everything on 127.0.0.1:
#   RabbitMQ (AMQP 5672, management UI http://127.0.0.1:15672, login notifications/notifications),
#   smtp4dev (SMTP 2525, web UI http://127.0.0.1:5000), the worker (metrics on 9464), the API (http://127.0.0.1:8080),
#   the inbound receiver of bounces and complaints for bounces.localhost (SMTP 2526, metrics on 9465), and SMTP
#   submission in the API's host (2587 with STARTTLS, 2465 with implicit TLS; a development certificate made here).
# Installs what is missing (rabbitmq-server from Debian, smtp4dev as a local dotnet tool). Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib/broker.sh
. scripts/lib/keys.sh

AMQP_PORT=${AMQP_PORT:-5672}
SMTP_PORT=${SMTP_PORT:-2525}
SMTP_UI_PORT=${SMTP_UI_PORT:-5000}
API_PORT=${API_PORT:-8080}
INBOUND_PORT=${INBOUND_PORT:-2526}
SUBMISSION_PORT=${SUBMISSION_PORT:-2587}
SUBMISSION_TLS_PORT=${SUBMISSION_TLS_PORT:-2465}
SMTP4DEV_VERSION=3.15.0

for port in "$AMQP_PORT" 15672 15692 "$SMTP_PORT" "$SMTP_UI_PORT" "$API_PORT" "$INBOUND_PORT" "$SUBMISSION_PORT" "$SUBMISSION_TLS_PORT" 9464 9465; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is already in use; stop what holds it (or set AMQP_PORT/SMTP_PORT/SMTP_UI_PORT/API_PORT/INBOUND_PORT/SUBMISSION_PORT/SUBMISSION_TLS_PORT)" >&2
    exit 1
  fi
done

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "stopping..." >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_broker
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x .tools/smtp4dev ]; then
  echo "installing smtp4dev $SMTP4DEV_VERSION into .tools/ ..." >&2
  dotnet tool install --tool-path .tools Rnwood.Smtp4dev --version "$SMTP4DEV_VERSION" >&2
fi
echo "building (Release)..." >&2
dotnet build Notifications.sln -c Release -v quiet -nologo >&2

conf=$(mktemp)
cat > "$conf" <<CONF
load_definitions = $root/rabbitmq/definitions.json
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = 15692
consumer_timeout = 1800000
max_message_size = 67108864
CONF
chmod 644 "$conf"
echo "starting RabbitMQ on 127.0.0.1:$AMQP_PORT ..." >&2
start_broker "notif-up" "$AMQP_PORT" "$conf" "rabbitmq_management,rabbitmq_prometheus"
rm -f "$conf"

DOTNET_ROLL_FORWARD=Major .tools/smtp4dev --urls="http://127.0.0.1:$SMTP_UI_PORT" --bindaddress=127.0.0.1 \
  --smtpport="$SMTP_PORT" --imapport=1143 --pop3port=1110 --db="" --hostname=localhost > .tools/smtp4dev.log 2>&1 &
pids+=($!)

# A development client with a fresh key for this run: keys are required, as shipped.
DEV_KEY=$(new_api_key)
export Clients__dev__KeyHashes__0="$(key_hash "$DEV_KEY")"
export Clients__dev__AllowedFrom__0="Notifications <no-reply@example.com>"
export Clients__dev__AllowedFrom__1="alerts@example.com"
# An operator client for the console (http://127.0.0.1:$API_PORT/console): signs in with its key, sends nothing.
OPS_KEY=$(new_api_key)
export Clients__ops__KeyHashes__0="$(key_hash "$OPS_KEY")"
export Clients__ops__Operator=true
export RabbitMq__Uri="amqp://notifications:notifications@127.0.0.1:$AMQP_PORT/"
export Smtp__Host=127.0.0.1 Smtp__Port="$SMTP_PORT" Smtp__Security=None
# List mail's one-click unsubscribe links point at this API; a new secret each run (links of an earlier run stop working).
export Unsubscribe__BaseUrl="http://127.0.0.1:$API_PORT" Unsubscribe__Secret="$(openssl rand -base64 32)"
# Every mail's envelope sender is b+<token>@bounces.localhost; what comes back there goes to the inbound receiver.
export Bounces__Domain=bounces.localhost Bounces__Secret="$(openssl rand -base64 32)" Bounces__Listen="127.0.0.1:$INBOUND_PORT"
# SMTP submission: a self-signed development certificate for localhost and 127.0.0.1, made once into .tools/submission/.
if [ ! -s .tools/submission/cert.pem ]; then
  mkdir -p .tools/submission
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout .tools/submission/key.pem -out .tools/submission/cert.pem 2> /dev/null
  chmod 600 .tools/submission/key.pem
fi
export Submission__Listen="127.0.0.1:$SUBMISSION_PORT" Submission__TlsListen="127.0.0.1:$SUBMISSION_TLS_PORT" \
  Submission__Certificate="$root/.tools/submission/cert.pem" Submission__CertificateKey="$root/.tools/submission/key.pem"
dotnet src/Notifications.Worker/bin/Release/net10.0/Notifications.Worker.dll &
pids+=($!)
dotnet src/Notifications.Inbound/bin/Release/net10.0/Notifications.Inbound.dll &
pids+=($!)
Urls="http://127.0.0.1:$API_PORT" dotnet src/Notifications.Api/bin/Release/net10.0/Notifications.Api.dll &
pids+=($!)

cat >&2 <<INFO

  API              http://127.0.0.1:$API_PORT/api/send-email   (status: /api/emails/{id}, health: /health/ready, metrics: /metrics)
  worker metrics   http://127.0.0.1:9464/metrics
  inbound (bounces) smtp://127.0.0.1:$INBOUND_PORT for bounces.localhost, metrics http://127.0.0.1:9465/metrics
  RabbitMQ UI      http://127.0.0.1:15672   (notifications / notifications)
  smtp4dev UI      http://127.0.0.1:$SMTP_UI_PORT
  OpenAPI          http://127.0.0.1:$API_PORT/openapi/v1.json
  Console          http://127.0.0.1:$API_PORT/console   (sign in with the operator key of client "ops": $OPS_KEY)

  API key of client "dev" (new each run; scripts/new-key.sh makes keys for real clients):
    $DEV_KEY
  Send a mail:
    curl -i http://127.0.0.1:$API_PORT/api/send-email -H "Authorization: Bearer $DEV_KEY" \\
      -H 'Content-Type: application/json' \\
      -d '{"to":["Alice <alice@example.com>"],"subject":"Hello","text":"It works."}'

  Send by SMTP (applications that only speak SMTP; docs/submission.md has settings for common ones):
    host 127.0.0.1, port $SUBMISSION_PORT with STARTTLS (or $SUBMISSION_TLS_PORT with implicit TLS), AUTH PLAIN or LOGIN
    user name: dev    password: the API key above    certificate: .tools/submission/cert.pem (self-signed, development)
    swaks --server 127.0.0.1:$SUBMISSION_PORT --tls --auth-user dev --auth-password $DEV_KEY \
      --from no-reply@example.com --to alice@example.com --header 'Subject: Hello by SMTP'

  Ctrl-C stops everything.

INFO
# Exit (and clean up) as soon as any part dies.
wait -n "${pids[@]}"
echo "a component exited; shutting the stack down" >&2

# Throwaway RabbitMQ nodes from Debian's rabbitmq-server, on loopback, with their own data folder.
# Sourced by test.sh, up.sh and bench.sh.

RABBITMQ_BIN=/usr/lib/rabbitmq/bin

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$* missing and this is not root: run 'sudo apt-get install $*' once" >&2
    return 1
  fi
  echo "installing $* from Debian..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_redis_installed() {
  command -v redis-server > /dev/null 2>&1 && return 0
  apt_install redis-server
  # The package starts a server of its own where it can; ours run on their own ports.
  service redis-server stop > /dev/null 2>&1 || true
}

ensure_rabbitmq_installed() {
  if [ -x "$RABBITMQ_BIN/rabbitmq-server" ]; then return 0; fi
  apt_install rabbitmq-server
  # The package may start a node of its own (on a machine with systemd); we run our own ones.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
    systemctl stop rabbitmq-server || true
  fi
}

# A TCP port on 127.0.0.1 that nothing uses, below the ephemeral range (32768-60999 on Linux), where the kernel
# hands out local ports for outgoing connections: a port picked there can be taken by a client before our server binds it.
# Debian's python3-dkim (with python3-nacl for Ed25519): the DKIM verifier DkimTests checks signatures with, next to MimeKit's.
ensure_dkim_verifier_installed() {
  /usr/bin/python3 -c 'import dkim, nacl' 2> /dev/null || apt_install python3-dkim python3-nacl
}

# Debian's Postfix, a real MTA whose own DSNs PostfixBounceTests feed to the inbound receiver. Installed unconfigured (no
# system mail server is started); the tests run an instance of their own in /tmp/notifications-postfix, which the
# default main.cf must list in alternate_config_directories for root to start it with postfix -c.
ensure_postfix_installed() {
  if [ ! -x /usr/sbin/postfix ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_install postfix
  fi
  local main=/etc/postfix/main.cf
  grep -qs '^alternate_config_directories.*/tmp/notifications-postfix/etc' "$main" && return 0
  if grep -qs '^alternate_config_directories' "$main"; then
    sed -i 's|^alternate_config_directories *=.*|&, /tmp/notifications-postfix/etc|' "$main"
  else
    echo "alternate_config_directories = /tmp/notifications-postfix/etc" >> "$main"
  fi
}

# Clients nobody here wrote, for the SMTP submission tests: swaks, and Cyrus SASL's PLAIN/LOGIN for Postfix's relayhost.
ensure_submission_clients_installed() {
  command -v swaks > /dev/null || apt_install swaks
  [ -e /usr/lib/x86_64-linux-gnu/sasl2/libplain.so ] || ls /usr/lib/*/sasl2/libplain.so > /dev/null 2>&1 || apt_install libsasl2-modules
}

# Debian's Chromium, which the console's browser tests (Playwright) launch by path: no browser download.
ensure_chromium_installed() {
  command -v chromium > /dev/null && return 0
  apt_install chromium
}

# Redocly's CLI (pinned) in .tools/redocly, for the OpenAPI lint test; npm and Node from the machine.
ensure_redocly_installed() {
  [ -x .tools/redocly/node_modules/.bin/redocly ] && return 0
  command -v npm > /dev/null || apt_install nodejs npm
  mkdir -p .tools/redocly
  npm install --prefix .tools/redocly --no-audit --no-fund --silent @redocly/cli@2.77.0 > /dev/null
}

free_port() {
  local port
  while :; do
    port=$(( 10000 + RANDOM % 22000 ))
    if command -v ss > /dev/null 2>&1; then
      [ -z "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ] && { echo "$port"; return 0; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
}

# Runs a rabbitmq CLI tool against node $BROKER_NODE as the rabbitmq user, sharing the node's cookie.
broker_ctl() {
  local tool=$1; shift
  runuser -u rabbitmq -- env HOME="$BROKER_DIR" ERL_EPMD_ADDRESS=127.0.0.1 \
    "$RABBITMQ_BIN/$tool" -n "$BROKER_NODE" "$@"
}

# start_broker NAME AMQP_PORT [EXTRA_CONF_FILE] [PLUGINS]
# Sets BROKER_NODE, BROKER_DIR, BROKER_AMQP_PORT; the node runs until stop_broker.
start_broker() {
  local name=$1 port=$2 extra_conf=${3:-} plugins=${4:-}
  ensure_rabbitmq_installed || return 1
  BROKER_NODE="$name@localhost"
  BROKER_AMQP_PORT=$port
  BROKER_DIR=$(mktemp -d "/tmp/$name.XXXXXX")
  {
    echo "listeners.tcp.1 = 127.0.0.1:$port"
    echo "log.console = false"
    echo "log.file.level = warning"
    [ -n "$extra_conf" ] && cat "$extra_conf"
  } > "$BROKER_DIR/rabbitmq.conf"
  echo "[$plugins]." > "$BROKER_DIR/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$BROKER_DIR"
  chmod 700 "$BROKER_DIR"

  runuser -u rabbitmq -- env HOME="$BROKER_DIR" \
    RABBITMQ_NODENAME="$BROKER_NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT="$(free_port)" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_MNESIA_BASE="$BROKER_DIR/mnesia" \
    RABBITMQ_LOG_BASE="$BROKER_DIR/log" \
    RABBITMQ_CONFIG_FILE="$BROKER_DIR/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$BROKER_DIR/enabled_plugins" \
    RABBITMQ_PID_FILE="$BROKER_DIR/pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    "$RABBITMQ_BIN/rabbitmq-server" > "$BROKER_DIR/server.out" 2>&1 &
  BROKER_PID=$!

  # await_startup fails at once while the node is not yet known to epmd; ask again until it answers.
  local deadline=$(( SECONDS + 120 ))
  until broker_ctl rabbitmqctl --timeout 60 await_startup > /dev/null 2>&1; do
    if ! kill -0 "$BROKER_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "RabbitMQ node $BROKER_NODE did not start; its output:" >&2
      tail -n 30 "$BROKER_DIR/server.out" "$BROKER_DIR"/log/*.log >&2 2>/dev/null
      return 1
    fi
    sleep 0.5
  done
}

stop_broker() {
  [ -n "${BROKER_DIR:-}" ] || return 0
  broker_ctl rabbitmqctl stop > /dev/null 2>&1 || kill "${BROKER_PID:-0}" 2>/dev/null || true
  wait "${BROKER_PID:-0}" 2>/dev/null || true
  rm -rf "$BROKER_DIR"
  BROKER_DIR=
}

# make_test_certificates DIR: a throwaway CA and a server certificate for 127.0.0.1/localhost signed by it
# (ca.pem, server.pem, server.key), readable by the rabbitmq user. For the TLS tests only.
make_test_certificates() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=notifications test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chown -R rabbitmq:rabbitmq "$dir"
  chmod 755 "$dir"
  chmod 644 "$dir"/*.pem
}

# tls_listener_conf DIR PORT: rabbitmq.conf lines for an AMQPS listener with the certificates of make_test_certificates.
tls_listener_conf() {
  cat <<CONF
listeners.ssl.1 = 127.0.0.1:$2
ssl_options.cacertfile = $1/ca.pem
ssl_options.certfile = $1/server.pem
ssl_options.keyfile = $1/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
}

# The same for a second node, kept in FAULT_* variables. [EXTRA_CONF_FILE] as for start_broker.
start_fault_broker() {
  local saved_node=${BROKER_NODE:-} saved_dir=${BROKER_DIR:-} saved_port=${BROKER_AMQP_PORT:-} saved_pid=${BROKER_PID:-} started=0
  start_broker "$1" "$2" "${3:-}" && started=1
  FAULT_NODE=$BROKER_NODE FAULT_DIR=$BROKER_DIR FAULT_AMQP_PORT=$BROKER_AMQP_PORT FAULT_PID=$BROKER_PID
  BROKER_NODE=$saved_node BROKER_DIR=$saved_dir BROKER_AMQP_PORT=$saved_port BROKER_PID=$saved_pid
  if [ "$started" = 0 ]; then stop_fault_broker; return 1; fi
}

# start_broker_on_free_port NAME [EXTRA_CONF_FILE] [PLUGINS]: start_broker on a port free_port picks, up to three
# times: a port another program binds between the pick and the node's start fails that start, and another is tried.
start_broker_on_free_port() {
  local try
  for try in 1 2 3; do
    start_broker "$1" "$(free_port)" "${2:-}" "${3:-}" && return 0
    stop_broker
    echo "RabbitMQ node $1 did not start (try $try of 3); trying another port" >&2
  done
  return 1
}

stop_fault_broker() {
  [ -n "${FAULT_DIR:-}" ] || return 0
  runuser -u rabbitmq -- env HOME="$FAULT_DIR" ERL_EPMD_ADDRESS=127.0.0.1 "$RABBITMQ_BIN/rabbitmqctl" -n "$FAULT_NODE" stop > /dev/null 2>&1 \
    || kill "${FAULT_PID:-0}" 2>/dev/null || true
  wait "${FAULT_PID:-0}" 2>/dev/null || true
  rm -rf "$FAULT_DIR"
  FAULT_DIR=
}

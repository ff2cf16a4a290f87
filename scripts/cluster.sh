#!/usr/bin/env bash
# Runs DayTrader on a two-node Temporal cluster on this machine, for a person
# to try (`make cluster`): two `daytrader temporal-node`s sharing PostgreSQL
# (persistence and membership), the quote server emulator, two workers and the
# web UI, the workers and the web dialing both nodes. Ctrl-C stops them all.
#
#   node 1  gRPC 127.0.0.1:7233  HTTP API :7243  Temporal UI :8233  internal ports 7234-7240
#   node 2  gRPC 127.0.0.1:7333  HTTP API :7343  (no UI)            internal ports 7334-7340
#   web UI  http://127.0.0.1:8080   quote emulator 127.0.0.1:4444
#
# Kill a node (kill -9 on the PID printed) and watch the other carry on; start
# it again with the command printed. Logs go to $CLUSTER_DIR/*.log.
#
# Environment: DATABASE_URL (default: scripts/postgres.sh url; Temporal's
# state goes to NAME_cluster and NAME_cluster_visibility beside its NAME),
# CLUSTER_DIR (default .data/cluster), DAYTRADER (default bin/daytrader),
# TLS=1: the nodes serve TLS, to clients and to each other (mutual TLS), with
# a CA and certificate made once with openssl in $CLUSTER_DIR/tls; the HTTP
# API and the Temporal UI are off (a node serves them only in plaintext), and
# every client gets TEMPORAL_TLS_SERVER_CA_CERT_PATH.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DAYTRADER:-$repo_root/bin/daytrader}
dir=${CLUSTER_DIR:-$repo_root/.data/cluster}
export DATABASE_URL=${DATABASE_URL:-$("$repo_root/scripts/postgres.sh" url)}
export TEMPORAL_FRONTENDS=127.0.0.1:7233,127.0.0.1:7333
unset TEMPORAL_ADDRESS # the list replaces it; a stray one must not confuse the reader

[[ -x $bin ]] || { echo "cluster.sh: $bin missing: run make build" >&2; exit 1; }
mkdir -p "$dir"

# make_certs makes, once, a CA and a certificate for 127.0.0.1 and
# localhost, for servers and clients alike (the nodes present it to each other).
make_certs() {
	local tls=$1
	[[ -s $tls/node.pem ]] && return
	command -v openssl >/dev/null || { echo "cluster.sh: TLS=1 needs openssl (scripts/deps.sh)" >&2; exit 1; }
	mkdir -p "$tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=DayTrader cluster CA" \
		-keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
		-keyout "$tls/node-key.pem" -out "$tls/node.csr" 2>/dev/null
	openssl x509 -req -in "$tls/node.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial -days 365 \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n') \
		-out "$tls/node.pem" 2>/dev/null
}

node1_web=(--temporal-http-addr 127.0.0.1:7243 --temporal-ui-addr 127.0.0.1:8233)
node2_web=(--temporal-http-addr 127.0.0.1:7343 --no-temporal-ui)
web_ui=(--temporal-ui-url http://127.0.0.1:8233)
ui_line="http://127.0.0.1:8233 (node 1)"
client_env="TEMPORAL_FRONTENDS=$TEMPORAL_FRONTENDS"
if [[ ${TLS:-} == 1 ]]; then
	make_certs "$dir/tls"
	export TEMPORAL_FRONTEND_TLS_CERT_PATH=$dir/tls/node.pem TEMPORAL_FRONTEND_TLS_KEY_PATH=$dir/tls/node-key.pem \
		TEMPORAL_FRONTEND_TLS_CA_PATH=$dir/tls/ca.pem TEMPORAL_TLS_SERVER_CA_CERT_PATH=$dir/tls/ca.pem
	node1_web=(--temporal-http-addr= --no-temporal-ui)
	node2_web=(--temporal-http-addr= --no-temporal-ui)
	web_ui=()
	ui_line="off (TLS=1: a node serves its UI only in plaintext)"
	client_env+=" TEMPORAL_TLS_SERVER_CA_CERT_PATH=$TEMPORAL_TLS_SERVER_CA_CERT_PATH"
fi
pids=()
stop() {
	trap - INT TERM EXIT
	echo "stopping ${pids[*]}"
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# start NAME MARKER ARGS... runs bin ARGS with its log in dir/NAME.log and
# waits (2 minutes at most) for MARKER in it.
start() {
	local name=$1 marker=$2
	shift 2
	: >"$dir/$name.log"
	"$bin" "$@" >>"$dir/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 240); do
		grep -q "$marker" "$dir/$name.log" && { echo "$name running (pid $!): $*"; return; }
		kill -0 $! 2>/dev/null || { tail -20 "$dir/$name.log" >&2; echo "cluster.sh: $name exited" >&2; exit 1; }
		sleep 0.5
	done
	echo "cluster.sh: $name not ready after 2 minutes (see $dir/$name.log)" >&2
	exit 1
}

# The first node creates the databases; the second joins it.
start node1 "Temporal node running" temporal-node --internal-ports 7234 --temporal-frontend-addr 127.0.0.1:7233 \
	"${node1_web[@]}" --data-dir "$dir/node1"
start node2 "Temporal node running" temporal-node --internal-ports 7334 --temporal-frontend-addr 127.0.0.1:7333 \
	"${node2_web[@]}" --data-dir "$dir/node2"
start quotes "quote server emulator running" quoteserver
start worker1 "worker running" worker --data-dir "$dir/worker1" --metrics-addr 127.0.0.1:9101
start worker2 "worker running" worker --data-dir "$dir/worker2" --metrics-addr 127.0.0.1:9102
start web "web UI running" web "${web_ui[@]}"

cat <<EOF

DayTrader on a two-node Temporal cluster. Ctrl-C stops everything.

  Web UI           http://127.0.0.1:8080
  Temporal UI      $ui_line
  Clients dial     TEMPORAL_FRONTENDS=$TEMPORAL_FRONTENDS
  Send a workload  $client_env \\
                     $bin workload run ../shared/workloads/10User_testWorkLoad
  Kill node 1      kill -9 ${pids[0]}   (node 2 takes its shards over within seconds)
  Start it again   DATABASE_URL=$DATABASE_URL $client_env \\
                     ${TEMPORAL_FRONTEND_TLS_CERT_PATH:+TEMPORAL_FRONTEND_TLS_CERT_PATH=$TEMPORAL_FRONTEND_TLS_CERT_PATH TEMPORAL_FRONTEND_TLS_KEY_PATH=$TEMPORAL_FRONTEND_TLS_KEY_PATH TEMPORAL_FRONTEND_TLS_CA_PATH=$TEMPORAL_FRONTEND_TLS_CA_PATH \\
                     }$bin temporal-node --internal-ports 7234 --data-dir $dir/node1 ${node1_web[*]}
  Logs             $dir/*.log

EOF
# Until Ctrl-C: a killed node is part of the demonstration, not a reason to stop.
wait || true

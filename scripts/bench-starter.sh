#!/usr/bin/env bash
# Measures the workload starter alone: starts a fresh stack (`daytrader dev
# --no-web`, its own database, data dir and ports), runs `daytrader workload
# run --quiet FILE` against it under /usr/bin/time, prints the run's report,
# the starter's own peak RSS and CPU seconds, and the stack's billed legacy
# fetches against its quoteServer records (it fails if they differ), and
# tears the stack down (stopping only the dev process it started).
#
#   scripts/bench-starter.sh [FILE] [workload run flags...]
#
# Environment:
#   STARTER    the binary that runs the workload (default bin/daytrader;
#              make bench-starter: bin/daytrader-starter, built without the server)
#   STACK_BIN  the binary that runs the stack (default bin/daytrader)
#   KEEP=1     keep the data dir (dev.log, time.txt) and the database
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
file=${1:-artifacts/workload-1000users-1M.txt}
shift || true
starter=${STARTER:-bin/daytrader}
stack_bin=${STACK_BIN:-bin/daytrader}
[[ -r $file ]] || { echo "bench-starter: no workload file $file" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-starter: needs /usr/bin/time (GNU time)" >&2; exit 1; }

server_url=${DATABASE_URL:-$(scripts/postgres.sh url)}
db=starter_bench_$(date +%s)_$$
scripts/postgres.sh createdb "$db" >/dev/null
db_url=$(sed -E "s#/[^/?]+(\?|$)#/$db\1#" <<<"${server_url#*://}")
db_url=${server_url%%://*}://$db_url
data_dir=$(mktemp -d /tmp/starter-bench.XXXXXX)

# free_port prints a TCP port nothing listens on (checked, not reserved).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
frontend=127.0.0.1:$(free_port)
quotes=127.0.0.1:$(free_port)
metrics=127.0.0.1:$(free_port)

dev_pid=
cleanup() {
	if [[ -n $dev_pid ]]; then
		kill "$dev_pid" 2>/dev/null || true
		wait "$dev_pid" 2>/dev/null || true
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		echo "kept $data_dir and database $db" >&2
		return
	fi
	scripts/postgres.sh psql -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
	rm -rf "$data_dir"
}
trap cleanup EXIT

DATABASE_URL=$db_url "$stack_bin" dev --no-web --data-dir "$data_dir" --log-level warn \
	--temporal-frontend-addr "$frontend" --temporal-http-addr= --no-temporal-ui \
	--quote-server "$quotes" --metrics-addr "$metrics" >"$data_dir/dev.log" 2>&1 &
dev_pid=$!
for _ in $(seq 240); do
	curl -sf "http://$metrics/readyz" >/dev/null && break
	kill -0 "$dev_pid" 2>/dev/null || { cat "$data_dir/dev.log" >&2; exit 1; }
	sleep 0.5
done
curl -sf "http://$metrics/readyz" >/dev/null || { echo "bench-starter: the stack is not ready after 2 minutes" >&2; exit 1; }

DATABASE_URL=$db_url TEMPORAL_FRONTEND_ADDR=$frontend \
	/usr/bin/time -v -o "$data_dir/time.txt" "$starter" workload run --quiet "$@" "$file" &
time_pid=$!
# The starter's resident memory in two parts, sampled: its anonymous memory
# (heap, stacks: what it allocates) and the file-backed pages of the binary
# it has mapped (shared with any process of the same file, and dropped by
# the kernel when it needs the memory).
anon=0 file_backed=0
while kill -0 "$time_pid" 2>/dev/null; do
	pid=$(pgrep -P "$time_pid" | head -1 || true)
	# Read the status once: the process may exit between a check and a
	# read, and Debian's awk (mawk) gives up on a missing file before its
	# END, which left read at EOF and set -e ending the script mid-run.
	status=
	[[ -n $pid ]] && status=$(cat "/proc/$pid/status" 2>/dev/null || true)
	if [[ -n $status ]]; then
		read -r a f < <(awk '/^RssAnon/ {a = $2} /^RssFile/ {f = $2} END {print a + 0, f + 0}' <<<"$status")
		((a > anon)) && anon=$a
		((f > file_backed)) && file_backed=$f
	fi
	sleep 0.2
done
wait "$time_pid" || { echo "bench-starter: the run failed" >&2; exit 1; }
awk -F': ' -v anon="$anon" -v file="$file_backed" '
	/Maximum resident set size/ { rss = $2 / 1024 }
	/User time/ { cpu += $2 } /System time/ { cpu += $2 }
	/Elapsed \(wall clock\)/ { wall = $2 }
	END { printf "starter: peak RSS %.0f MiB (sampled peaks: anonymous %.0f MiB, file-backed %.0f MiB), CPU %.1f s (user+sys), wall %s\n",
		rss, anon / 1024, file / 1024, cpu, wall }' "$data_dir/time.txt"

# Every legacy fetch the stack paid for must have one quoteServer record (a
# trigger watcher may be between its fetch and its audit write: a few
# seconds to agree). An overloaded worker loses workflow tasks, which is
# where billed quotes once went unaudited.
fetched=0 records=-1
for _ in $(seq 20); do
	fetched=$(curl -sf "http://$metrics/metrics" |
		awk '/^daytrader_quote_legacy_fetch_seconds_count\{outcome="ok"\}/ {print $2}' || true)
	records=$(scripts/postgres.sh psql -d "$db_url" -Atc "SELECT count(*) FROM audit_events WHERE event_type = 'quoteServer'" || true)
	[[ ${fetched:-0} == "$records" ]] && break
	sleep 0.5
done
echo "quotes: ${fetched:-0} billed legacy fetches, $records quoteServer records"
[[ ${fetched:-0} == "$records" ]] || { echo "bench-starter: billed quotes without an audit record" >&2; exit 1; }

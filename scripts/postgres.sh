#!/usr/bin/env bash
# Manages the project-local PostgreSQL cluster for development and tests.
#
#   scripts/postgres.sh start          initdb if needed, start, create the daytrader database
#   scripts/postgres.sh stop           stop the server
#   scripts/postgres.sh status         exit 0 if running, 3 if not
#   scripts/postgres.sh url            print the DATABASE_URL
#   scripts/postgres.sh createdb NAME  create database NAME if missing
#   scripts/postgres.sh psql [ARGS]    psql connected to the daytrader database
#
# Environment:
#   PGDATA_DIR     cluster directory (default: <repo>/.data/postgres, git-ignored)
#   POSTGRES_PORT  TCP port on 127.0.0.1 (default: 54329)
#
# This is a throwaway development cluster: it listens on 127.0.0.1 only and
# trusts every local connection (no passwords). Never expose it.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${PGDATA_DIR:-$repo_root/.data/postgres}
port=${POSTGRES_PORT:-54329}
database=daytrader
superuser=postgres

die() {
	echo "postgres.sh: $*" >&2
	exit 1
}

[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "POSTGRES_PORT must be a port number, got '$port'"
# The server refuses relative data paths once it changes directory.
[[ $data_dir = /* ]] || data_dir=$PWD/$data_dir

# PostgreSQL refuses to run as root, so root runs the server as the postgres
# user; anyone else runs it as themselves.
if ((EUID == 0)); then
	as_server_user() { runuser -u postgres -- "$@"; }
else
	as_server_user() { "$@"; }
fi

pg_bin=
find_server_binaries() {
	local dir
	# Newest installed major version first, then whatever is on PATH.
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
		if [[ -x $dir/pg_ctl && -x $dir/initdb && -x $dir/postgres ]]; then
			pg_bin=$dir
			return 0
		fi
	done
	if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
		pg_bin=$(dirname "$(command -v pg_ctl)")
		return 0
	fi
	return 1
}

ensure_server_binaries() {
	find_server_binaries && return 0
	if ((EUID != 0)); then
		die "no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH); install them, e.g. 'sudo apt-get install -y postgresql'"
	fi
	echo "postgres.sh: installing PostgreSQL server binaries (apt-get install postgresql)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql >/dev/null
	find_server_binaries || die "apt-get installed postgresql but no server binaries were found"
}

# The client tools come with the server packages; psql may also be on PATH.
psql_cmd() {
	if [[ -n $pg_bin && -x $pg_bin/psql ]]; then
		"$pg_bin/psql" "$@"
	else
		psql "$@"
	fi
}

# Port the running server listens on (line 4 of postmaster.pid), else the configured one.
running_port() {
	local pid_file=$data_dir/postmaster.pid
	if [[ -r $pid_file ]]; then
		sed -n 4p "$pid_file"
	else
		echo "$port"
	fi
}

server_url() {
	echo "postgres://$superuser@127.0.0.1:$(running_port)/${1:-$database}?sslmode=disable"
}

is_running() {
	[[ -f $data_dir/PG_VERSION ]] && as_server_user "$pg_bin/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

init_cluster() {
	local parent
	parent=$(dirname "$data_dir")
	mkdir -p "$data_dir"
	if ((EUID == 0)); then
		chown postgres:postgres "$data_dir"
		runuser -u postgres -- test -x "$parent" ||
			die "user postgres cannot reach $parent; set PGDATA_DIR to a directory it can enter (e.g. under /var/tmp)"
	fi
	chmod 700 "$data_dir"
	echo "postgres.sh: creating cluster in $data_dir" >&2
	as_server_user "$pg_bin/initdb" -D "$data_dir" -U "$superuser" --auth=trust \
		--encoding=UTF8 --no-locale >"$data_dir.initdb.log" 2>&1 ||
		die "initdb failed; see $data_dir.initdb.log"
	rm -f "$data_dir.initdb.log"
	# Sized for a development box; fsync stays on so a crash never corrupts it.
	as_server_user tee -a "$data_dir/postgresql.conf" >/dev/null <<-EOF

		# --- scripts/postgres.sh (development cluster) ---
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$data_dir'
		max_connections = 200
		shared_buffers = 256MB
		work_mem = 16MB
		maintenance_work_mem = 128MB
		max_wal_size = 2GB
		log_min_messages = warning
		log_min_duration_statement = 1000
	EOF
}

# Serialises start and createdb between concurrent callers (e.g. parallel test runs).
take_lock() {
	mkdir -p "$(dirname "$data_dir")"
	exec 9>>"$data_dir.lock"
	flock 9
}

cmd_start() {
	ensure_server_binaries
	take_lock
	[[ -f $data_dir/PG_VERSION ]] || init_cluster
	if is_running; then
		echo "postgres.sh: already running on port $(running_port)" >&2
	else
		# 9>&-: the server must not inherit (and so hold forever) the lock.
		as_server_user "$pg_bin/pg_ctl" start -D "$data_dir" -w -t 60 \
			-l "$data_dir/postgres.log" -o "-p $port" >/dev/null 9>&- ||
			die "server did not start; see $data_dir/postgres.log"
		echo "postgres.sh: started on 127.0.0.1:$port (data in $data_dir)" >&2
	fi
	create_database "$database"
}

cmd_stop() {
	find_server_binaries || die "no PostgreSQL server binaries found"
	if is_running; then
		as_server_user "$pg_bin/pg_ctl" stop -D "$data_dir" -m fast -w >/dev/null
		echo "postgres.sh: stopped" >&2
	else
		echo "postgres.sh: not running" >&2
	fi
}

cmd_status() {
	find_server_binaries || die "no PostgreSQL server binaries found"
	if is_running; then
		echo "running on 127.0.0.1:$(running_port), data in $data_dir"
	else
		echo "not running (data dir $data_dir)"
		exit 3
	fi
}

create_database() {
	local name=$1
	[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] ||
		die "database name '$name' must be 1-63 lowercase letters, digits or underscores, not starting with a digit"
	local admin_url
	admin_url=$(server_url postgres)
	exists() { [[ $(psql_cmd "$admin_url" -XtAq -c "SELECT 1 FROM pg_database WHERE datname = '$name'") == 1 ]]; }
	exists && return 0
	# A concurrent caller may win the race; then the database exists all the same.
	psql_cmd "$admin_url" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\"" 2>/dev/null || exists ||
		die "could not create database $name"
}

cmd_createdb() {
	(($# == 1)) || die "usage: postgres.sh createdb NAME"
	find_server_binaries || true
	is_running || die "server is not running; run scripts/postgres.sh start"
	take_lock
	create_database "$1"
}

cmd_psql() {
	find_server_binaries || true
	psql_cmd "$(server_url)" "$@"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
url) server_url ;;
createdb) shift && cmd_createdb "$@" ;;
psql) shift && cmd_psql "$@" ;;
*)
	sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
	;;
esac

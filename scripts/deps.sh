#!/usr/bin/env bash
# Installs the machine packages DayTrader's tests need, if missing:
# PostgreSQL (the audit store), xmllint (DUMPLOG schema checks), curl (the
# README's Temporal HTTP API lines), Chromium (browser tests of the web UI) and openssl
# (TLS=1 make cluster's certificates). Debian/Ubuntu with apt-get; as root, or via
# sudo when available. Go modules come from the Go module proxy as usual.
set -euo pipefail

missing=()
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v curl >/dev/null || missing+=(curl) # the README's curl lines are run by a test
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl) # TLS=1 make cluster makes its certificates with it
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null || missing+=(postgresql)

((${#missing[@]} == 0)) && exit 0
echo "deps.sh: installing ${missing[*]}" >&2
if ((EUID == 0)); then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "deps.sh: please install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

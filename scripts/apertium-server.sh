#!/usr/bin/env bash
# Starts the Apertium APy translation server with the English-Spanish and
# English-Catalan pairs for internal/translate's tests, and prints the
# variable that enables them:
#
#   export "$(scripts/apertium-server.sh)"      # then: go test ./internal/translate/
#   scripts/apertium-server.sh >> "$GITHUB_ENV"  # in CI
#   scripts/apertium-server.sh stop             # stops the server, removes its state
#
# stdout carries only the AIMG_TEST_APERTIUM_URL=... line; progress goes to stderr.
# Running it again while the server is up just prints the line again.
# The Debian packages (apertium-apy, apertium-eng-spa, apertium-eng-cat) are
# installed with apt-get when APy or a pair is missing (needs root).
# APy 0.11 has no option for the listen address: it listens on every
# interface of the machine, on APERTIUM_PORT.
#
# Settings (environment):
#   APERTIUM_PORT       port (default 2737, APy's own default)
#   APERTIUM_STATE_DIR  pid file and log (default ${TMPDIR:-/tmp}/aimg-apertium-$APERTIUM_PORT)
#   APERTIUM_MODES_DIR  the pairs' mode files (default /usr/share/apertium/modes)
set -euo pipefail

port="${APERTIUM_PORT:-2737}"
state_dir="${APERTIUM_STATE_DIR:-${TMPDIR:-/tmp}/aimg-apertium-$port}"
modes_dir="${APERTIUM_MODES_DIR:-/usr/share/apertium/modes}"

pid_file="$state_dir/apy.pid"
log_file="$state_dir/apy.log"
address="127.0.0.1:$port"

say() { echo "apertium-server: $*" >&2; }

running_pid() {
	local pid
	[[ -f "$pid_file" ]] || return 1
	pid="$(cat "$pid_file")"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# answers succeeds once APy lists its pairs (it answers only after it has
# read every mode file).
answers() {
	curl -sf -m 2 "http://$address/listPairs" 2>/dev/null | grep -q '"responseStatus": *200'
}

print_url() {
	echo "AIMG_TEST_APERTIUM_URL=http://$address"
}

if [[ "${1:-start}" == "stop" ]]; then
	if pid="$(running_pid)"; then
		# APy's pipelines are child processes in its process group (setsid below).
		kill -- "-$pid" 2>/dev/null || kill "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		say "stopped pid $pid"
	else
		say "not running"
	fi
	rm -rf "$state_dir"
	exit 0
elif [[ "${1:-start}" != "start" ]]; then
	say "usage: $0 [start|stop]"
	exit 2
fi

if pid="$(running_pid)" && answers; then
	say "already running (pid $pid, pid file $pid_file)"
	print_url
	exit 0
fi
if answers || curl -s -o /dev/null -m 2 "http://$address/" 2>/dev/null; then
	say "something else already answers on $address; set APERTIUM_PORT to another port"
	exit 1
fi

missing=()
command -v apertium-apy >/dev/null || missing+=(apertium-apy)
[[ -f "$modes_dir/eng-spa.mode" ]] || missing+=(apertium-eng-spa)
[[ -f "$modes_dir/eng-cat.mode" ]] || missing+=(apertium-eng-cat)
if ((${#missing[@]} > 0)); then
	say "installing ${missing[*]} with apt-get"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

mkdir -p "$state_dir"

# setsid detaches the server from this script's process group, so it
# outlives the shell that started it; -j 1: one process (APy forks one
# HTTP server per core with 0). LC_ALL as the Debian unit sets it: APy's
# pipelines read and write UTF-8.
LC_ALL=C.UTF-8 setsid apertium-apy -p "$port" -j 1 "$modes_dir" \
	</dev/null >"$log_file" 2>&1 &
pid=$!
echo "$pid" >"$pid_file"

deadline=$((SECONDS + 60))
until answers; do
	if ! kill -0 "$pid" 2>/dev/null; then
		say "apertium-apy exited; its log ($log_file):"
		cat "$log_file" >&2
		rm -f "$pid_file"
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		say "apertium-apy did not answer on $address within 60s; log: $log_file"
		kill "$pid" 2>/dev/null || true
		rm -f "$pid_file"
		exit 1
	fi
	sleep 0.2
done

say "apertium-apy running on $address (pid $pid, pid file $pid_file, log $log_file)"
print_url

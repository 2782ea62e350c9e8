#!/usr/bin/env bash
# Starts a local S3-compatible server (Versity S3 Gateway, posix backend) for
# the blob store's S3 test suite, and prints the variable that enables it:
#
#   export "$(scripts/s3-test-server.sh)"      # then: go test ./internal/blob/
#   scripts/s3-test-server.sh >> "$GITHUB_ENV"  # in CI
#   scripts/s3-test-server.sh stop             # stops the server, removes its data
#
# stdout carries only the AIMG_TEST_S3_URL=... line; progress goes to stderr.
# Running it again while the server is up just prints the line again.
# The server listens on 127.0.0.1 only. The bucket is created by the blob
# store itself (create_bucket=true in the URL).
#
# Settings (environment):
#   S3_PORT            port on 127.0.0.1 (default 9100)
#   S3_STATE_DIR       pid file, log and data (default ${TMPDIR:-/tmp}/aimg-s3-test-$S3_PORT)
#   S3_ACCESS_KEY      root access key (default aimgtest)
#   S3_SECRET_KEY      root secret key (default aimgtest-secret)
#   S3_BUCKET          bucket named in the URL (default aimg-test)
#   VERSITYGW_VERSION  module version installed when versitygw is missing (default v1.8.0)
set -euo pipefail

port="${S3_PORT:-9100}"
state_dir="${S3_STATE_DIR:-${TMPDIR:-/tmp}/aimg-s3-test-$port}"
access_key="${S3_ACCESS_KEY:-aimgtest}"
secret_key="${S3_SECRET_KEY:-aimgtest-secret}"
bucket="${S3_BUCKET:-aimg-test}"
version="${VERSITYGW_VERSION:-v1.8.0}"

pid_file="$state_dir/versitygw.pid"
log_file="$state_dir/versitygw.log"
data_dir="$state_dir/data"
address="127.0.0.1:$port"

say() { echo "s3-test-server: $*" >&2; }

running_pid() {
	local pid
	[[ -f "$pid_file" ]] || return 1
	pid="$(cat "$pid_file")"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

# answers succeeds once anything speaks HTTP on the port (an anonymous
# request gets 403 AccessDenied, which is fine).
answers() {
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$address/" || true)"
	[[ -n "$code" && "$code" != "000" ]]
}

print_url() {
	echo "AIMG_TEST_S3_URL=s3://$bucket?endpoint=$address&secure=false&access_key=$access_key&secret_key=$secret_key&create_bucket=true"
}

if [[ "${1:-start}" == "stop" ]]; then
	if pid="$(running_pid)"; then
		kill "$pid"
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
if answers; then
	say "something else already answers on $address; set S3_PORT to another port"
	exit 1
fi

gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
binary="$gobin/versitygw"
if [[ ! -x "$binary" ]]; then
	say "installing github.com/versity/versitygw/cmd/versitygw@$version into $gobin (takes minutes on a cold module cache)"
	go install "github.com/versity/versitygw/cmd/versitygw@$version"
fi

mkdir -p "$state_dir"
rm -rf "$data_dir"
mkdir -p "$data_dir"

# setsid detaches the server from this script's process group, so it outlives
# the shell that started it; the credentials go in the environment, not argv.
ROOT_ACCESS_KEY="$access_key" ROOT_SECRET_KEY="$secret_key" \
	setsid "$binary" --port "$address" --quiet posix "$data_dir" \
	</dev/null >"$log_file" 2>&1 &
pid=$!
echo "$pid" >"$pid_file"

deadline=$((SECONDS + 30))
until answers; do
	if ! kill -0 "$pid" 2>/dev/null; then
		say "versitygw exited; its log ($log_file):"
		cat "$log_file" >&2
		rm -f "$pid_file"
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		say "versitygw did not answer on $address within 30s; log: $log_file"
		kill "$pid" 2>/dev/null || true
		rm -f "$pid_file"
		exit 1
	fi
	sleep 0.2
done

say "versitygw $version running on $address (pid $pid, pid file $pid_file, log $log_file)"
print_url

#!/usr/bin/env bash
# Starts Stripe's stripe-mock (the Stripe API from its OpenAPI spec) for the
# Stripe provider's test suite and prints the variable that enables it:
#
#   export "$(scripts/stripe-mock-server.sh)"   # then: go test ./internal/payments/...
#   scripts/stripe-mock-server.sh stop
#
# stdout carries only the AIMG_TEST_STRIPE_URL=... line; progress goes to stderr.
# Settings: STRIPE_MOCK_PORT (default 12111), STRIPE_MOCK_VERSION (default v0.203.0).
set -euo pipefail

port="${STRIPE_MOCK_PORT:-12111}"
version="${STRIPE_MOCK_VERSION:-v0.203.0}"
state_dir="${TMPDIR:-/tmp}/aimg-stripe-mock-$port"
pid_file="$state_dir/stripe-mock.pid"
address="127.0.0.1:$port"
say() { echo "stripe-mock-server: $*" >&2; }
answers() { local c; c="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$address/v1/customers" || true)"; [[ -n "$c" && "$c" != "000" ]]; }
running_pid() { [[ -f "$pid_file" ]] && local p; p="$(cat "$pid_file" 2>/dev/null)" && [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && echo "$p"; }

if [[ "${1:-start}" == "stop" ]]; then
	if pid="$(running_pid)"; then kill "$pid"; say "stopped pid $pid"; else say "not running"; fi
	rm -rf "$state_dir"
	exit 0
fi
if pid="$(running_pid)" && answers; then
	say "already running (pid $pid)"
	echo "AIMG_TEST_STRIPE_URL=http://$address"
	exit 0
fi
if answers; then say "something else answers on $address; set STRIPE_MOCK_PORT"; exit 1; fi

gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
if [[ ! -x "$gobin/stripe-mock" ]]; then
	say "installing github.com/stripe/stripe-mock@$version into $gobin"
	go install "github.com/stripe/stripe-mock@$version"
fi
mkdir -p "$state_dir"
setsid "$gobin/stripe-mock" -http-addr "$address" </dev/null >"$state_dir/stripe-mock.log" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 150); do answers && break; sleep 0.2; done
answers || { say "stripe-mock did not answer; log: $state_dir/stripe-mock.log"; cat "$state_dir/stripe-mock.log" >&2; exit 1; }
say "stripe-mock $version running on $address (pid $(cat "$pid_file"))"
echo "AIMG_TEST_STRIPE_URL=http://$address"

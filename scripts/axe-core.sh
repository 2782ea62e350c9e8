#!/usr/bin/env bash
# Installs Deque's axe-core (the accessibility rules engine) from the npm
# registry for the web UI's browser tests and prints the variable that
# enables the check:
#
#   export "$(scripts/axe-core.sh)"   # then: go test ./internal/web/ -run TestBrowserEveryPageIsClean
#
# Only the tests use it: the site ships no third-party script.
# stdout carries only the AIMG_TEST_AXE_JS=... line; progress goes to stderr.
# Settings: AXE_CORE_VERSION (default 4.11.4).
set -euo pipefail

version="${AXE_CORE_VERSION:-4.11.4}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/aimg-axe-core-$version"
js="$dir/node_modules/axe-core/axe.min.js"
if [[ ! -s "$js" ]]; then
	command -v npm >/dev/null || { echo "axe-core: npm is needed (apt-get install -y npm)" >&2; exit 1; }
	mkdir -p "$dir"
	echo "axe-core: installing axe-core@$version into $dir" >&2
	npm install --prefix "$dir" --no-audit --no-fund --no-save "axe-core@$version" >&2
fi
echo "AIMG_TEST_AXE_JS=$js"

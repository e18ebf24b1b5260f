#!/usr/bin/env bash
# The demonstration behind `make run`: a local cluster of 4 Go engines in a scratch IPython
# directory, a command on every engine, the cluster listed, and a clean stop.
set -euo pipefail
bin=${1:-bin}
demo=$(mktemp -d /tmp/ipcluster-demo.XXXXXX)
export IPYTHONDIR=$demo
trap '"$bin/ipcluster" stop >/dev/null 2>&1 || true; rm -rf "$demo"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "IPYTHONDIR=$demo (a scratch profile directory)"
# --engine-kind=go: the Go engine explicitly (auto would choose ipyparallel's Python engine where it is
# installed); it runs the shell command below itself
step "$bin/ipcluster" start -n 4 --daemonize --engine-kind=go
step "$bin/ipcluster" px -- 'echo "engine $IPP_ENGINE_ID on $(hostname), pid $$"'
step "$bin/ipcluster" list
step "$bin/ipcluster" stop
left=$(pgrep -f "$demo" || true)
if [ -n "$left" ]; then
  echo "processes left behind: $left" >&2
  exit 1
fi
echo
echo "The cluster is stopped and no process of it is left."

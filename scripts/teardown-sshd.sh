#!/usr/bin/env bash
# Stops the sshd started by setup-sshd.sh, by its recorded pid (session children exit with it).
source "$(dirname "$0")/harness-common.sh"
SSHD_DIR=${SSHD_DIR:-/tmp/ipcluster-sshd}
stop_pidfile "$SSHD_DIR/sshd.pid"
echo "sshd stopped"

#!/usr/bin/env bash
# Stops sge_execd and sge_qmaster (by their pid files). Jobs are deleted first.
source "$(dirname "$0")/harness-common.sh"
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
qdel -u root '*' >/dev/null 2>&1 || true
for f in /var/spool/gridengine/execd/*/execd.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
stop_pidfile /var/spool/gridengine/qmaster/qmaster.pid
echo "sge stopped"

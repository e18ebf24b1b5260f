#!/usr/bin/env bash
# Stops sge_execd and sge_qmaster (by their pid files). Jobs are deleted first.
#   teardown-sge.sh [execd] [qmaster]   only these (default: both)
source "$(dirname "$0")/harness-common.sh"
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
what=" ${*:-execd qmaster} "
qdel -u root '*' >/dev/null 2>&1 || true
if [[ $what == *" execd "* ]]; then
  for f in /var/spool/gridengine/execd/*/execd.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
  echo "sge_execd stopped"
fi
if [[ $what == *" qmaster "* ]]; then
  stop_pidfile /var/spool/gridengine/qmaster/qmaster.pid
  echo "sge_qmaster stopped"
fi

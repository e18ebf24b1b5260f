#!/usr/bin/env bash
# Stops slurmd, slurmctld and munged started by setup-slurm.sh, by their recorded pids.
#   teardown-slurm.sh [slurm] [munge]   only these (default: both)
source "$(dirname "$0")/harness-common.sh"
SLURM_DIR=${SLURM_DIR:-/tmp/slurm-ci}
what=" ${*:-slurm munge} "
if [[ $what == *" slurm "* ]]; then
  scancel --user=root 2>/dev/null || true   # running jobs' processes would otherwise outlive slurmd
  sleep 0.5
  stop_pidfile "$SLURM_DIR/slurmd.pid"
  stop_pidfile "$SLURM_DIR/slurmctld.pid"
  echo "slurm stopped"
fi
if [[ $what == *" munge "* ]]; then
  [ -f "$SLURM_DIR/munged.pid" ] || cp /run/munge/munged.pid "$SLURM_DIR/munged.pid" 2>/dev/null || true
  stop_pidfile "$SLURM_DIR/munged.pid"
  rm -f /run/munge/munged.pid
  echo "munge stopped"
fi

#!/usr/bin/env bash
# Stops slurmd, slurmctld and munged started by setup-slurm.sh, by their recorded pids.
source "$(dirname "$0")/harness-common.sh"
SLURM_DIR=${SLURM_DIR:-/tmp/slurm-ci}
scancel --user=root 2>/dev/null || true   # running jobs' processes would otherwise outlive slurmd
sleep 0.5
stop_pidfile "$SLURM_DIR/slurmd.pid"
stop_pidfile "$SLURM_DIR/slurmctld.pid"
[ -f "$SLURM_DIR/munged.pid" ] && stop_pidfile "$SLURM_DIR/munged.pid"
rm -f /run/munge/munged.pid
echo "slurm + munge stopped"

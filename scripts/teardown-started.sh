#!/usr/bin/env bash
# Stops the test daemons a run started, as listed (one name a line) in the file it is given:
# the file `make test` passes to the setup scripts as IPP_SERVICES_STARTED. Daemons that ran
# before the run are not in it and stay up.
source "$(dirname "$0")/harness-common.sh"
list=${1:?usage: teardown-started.sh FILE}
[ -s "$list" ] || exit 0
d=$(dirname "$0")
has() { grep -qx "$1" "$list"; }
if has sshd; then "$d/teardown-sshd.sh"; fi
sge=(); has sge-execd && sge+=(execd); has sge-qmaster && sge+=(qmaster)
if [ ${#sge[@]} -gt 0 ]; then "$d/teardown-sge.sh" "${sge[@]}"; fi
slurm=(); has slurm && slurm+=(slurm); has munge && slurm+=(munge)
if [ ${#slurm[@]} -gt 0 ]; then "$d/teardown-slurm.sh" "${slurm[@]}"; fi

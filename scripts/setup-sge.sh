#!/usr/bin/env bash
# Single-node (Son of) Grid Engine 8.1.9 from Debian: sge_qmaster + sge_execd on this host, no systemd.
# Idempotent. After it: qsub/qstat/qdel/qconf work for root with SGE_ROOT/SGE_CELL set (source $SGE_ENV).
#   SGE_SLOTS  slots in all.q  [4]     SGE_ENV  env file written [/tmp/sge-ci/env.sh]
# Daemon pids: /var/spool/gridengine/qmaster/qmaster.pid, /var/spool/gridengine/execd/*/execd.pid
source "$(dirname "$0")/harness-common.sh"
SGE_SLOTS=${SGE_SLOTS:-4}; SGE_ENV=${SGE_ENV:-/tmp/sge-ci/env.sh}
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
H=$(hostname)
W=$(dirname "$SGE_ENV"); mkdir -p "$W"
printf 'export SGE_ROOT=%s\nexport SGE_CELL=%s\n' "$SGE_ROOT" "$SGE_CELL" > "$SGE_ENV"
# debconf answers so the postinst creates the cell (bootstrap, spool db, managers) non-interactively
if ! dpkg-query -W -f='${Status}' gridengine-master 2>/dev/null | grep -q 'install ok installed'; then
  debconf-set-selections <<DC
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string default
gridengine-common shared/gridenginemaster string $H
gridengine-master gridengine/gridengineconfig boolean true
DC
fi
apt_install gridengine-master gridengine-exec gridengine-client
C=$SGE_ROOT/$SGE_CELL/common
# Grid Engine compares the host name a client sends (gethostname: "$H") with the reverse lookup of its
# IP (127.0.0.1 -> "localhost"); a mismatch is "access denied". host_aliases makes them one host.
aliases=$(awk -v h="$H" '$1 ~ /^127\./ {for (i=2;i<=NF;i++) if ($i != h) printf " %s", $i}' /etc/hosts | tr ' ' '\n' | sort -u | tr '\n' ' ')
echo "$H $aliases" > "$C/host_aliases"
echo "$H" > "$C/act_qmaster"
chown sgeadmin:sgeadmin "$C/host_aliases" "$C/act_qmaster"
mkdir -p -m 0755 /var/run/gridengine && chown sgeadmin:sgeadmin /var/run/gridengine
QPID=/var/spool/gridengine/qmaster/qmaster.pid
if ! pid_alive "$(cat $QPID 2>/dev/null)" || ! qstat >/dev/null 2>&1; then
  rm -f "$QPID"
  record_started sge-qmaster
  /usr/sbin/sge_qmaster          # forks, drops to sgeadmin, writes $QPID
  wait_for 30 qstat
fi
# global config: allow root jobs (min_uid 1000 by default), faster load reports
if qconf -sconf global | grep -qE '^min_uid +[1-9]'; then
  qconf -sconf global | sed -e 's/^min_uid .*/min_uid                      0/' -e 's/^min_gid .*/min_gid                      0/' \
      -e 's/^load_report_time .*/load_report_time             00:00:05/' > "$W/global"   # file name = config name
  qconf -Mconf "$W/global" >/dev/null
fi
# scheduler: run every second instead of every 15 s, and right after submit/finish
# schedd_job_info: `qstat -j` tells why a job waits (ipcluster shows it while pending)
if ! qconf -ssconf | grep -qE '^schedule_interval +0:0:1$' || ! qconf -ssconf | grep -qE '^schedd_job_info +true'; then
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval                 0:0:1/' -e 's/^schedd_job_info .*/schedd_job_info                   true/' \
      -e 's/^flush_submit_sec .*/flush_submit_sec                  1/' -e 's/^flush_finish_sec .*/flush_finish_sec                  1/' > "$W/sched.conf"
  qconf -Msconf "$W/sched.conf" >/dev/null
fi
qconf -ss 2>/dev/null | grep -qx "$H" || qconf -as "$H" >/dev/null
if ! qconf -sel 2>/dev/null | grep -qx "$H"; then
  printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\nprojects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' "$H" > "$W/exechost"
  qconf -Ae "$W/exechost" >/dev/null
fi
EPID=$(ls /var/spool/gridengine/execd/*/execd.pid 2>/dev/null | head -1 || true)
if [ -z "$EPID" ] || ! pid_alive "$(cat "$EPID")"; then
  rm -f /var/spool/gridengine/execd/*/execd.pid
  record_started sge-execd
  /usr/sbin/sge_execd            # forks, drops to sgeadmin (jobs still run as the submitting user)
  wait_for 20 sh -c 'ls /var/spool/gridengine/execd/*/execd.pid'
fi
if ! qconf -sql 2>/dev/null | grep -qx all.q; then
  # queue from the built-in template: no PEs (make/smp/mpi don't exist), no load threshold
  # (np_load_avg=1.75 puts the queue in alarm state on a busy 2-core box), /bin/sh
  cat > "$W/edit-queue.sh" <<ED
#!/bin/sh
sed -i -e 's/^qname .*/qname all.q/' -e 's/^hostlist .*/hostlist $H/' -e 's/^slots .*/slots $SGE_SLOTS/' \
  -e 's|^shell .*|shell /bin/sh|' -e 's/^pe_list .*/pe_list NONE/' -e 's/^load_thresholds .*/load_thresholds NONE/' "\$1"
ED
  chmod +x "$W/edit-queue.sh"
  EDITOR="$W/edit-queue.sh" qconf -aq all.q >/dev/null
fi
# wait until the execd has reported (queue not in 'u'nknown state)
wait_for 30 sh -c "qstat -f -q all.q | grep -E '^all.q@' | awk '{print \$NF}' | grep -vq u"
echo "sge up: $(qstat -f | grep '^all.q@' | awk '{print $1, $3}')  (source $SGE_ENV)"
echo "pids: qmaster=$(cat $QPID) execd=$(cat /var/spool/gridengine/execd/*/execd.pid)"

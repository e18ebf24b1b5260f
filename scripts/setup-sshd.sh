#!/usr/bin/env bash
# Test harness: an OpenSSH server on 127.0.0.1:$SSHD_PORT with key-only auth, no systemd.
# Idempotent: a running, reachable sshd is left alone. Writes into $SSHD_DIR:
#   id_ed25519 (authorized for $SSHD_USER and root), refused_ed25519 (a key no account accepts),
#   known_hosts (the host key), ssh_config (aliases ipp-sshd and ipp-host1..ipp-host8, all this
#   sshd), sshd.pid, sshd.log.
#   SSHD_DIR   state dir                       [/tmp/ipcluster-sshd]
#   SSHD_PORT  port                            [2222]
#   SSHD_USER  login user created if missing   [ipptest]
# Afterwards: ssh -F $SSHD_DIR/ssh_config ipp-host1 hostname
source "$(dirname "$0")/harness-common.sh"
SSHD_DIR=${SSHD_DIR:-/tmp/ipcluster-sshd}; SSHD_PORT=${SSHD_PORT:-2222}; SSHD_USER=${SSHD_USER:-ipptest}
apt_install openssh-server openssh-client
mkdir -p "$SSHD_DIR/authorized_keys"; chmod 755 "$SSHD_DIR"
# test binaries run in parallel and each makes sure sshd runs: one at a time
exec 9>"$SSHD_DIR/setup.lock"; flock -w 120 9
if pid_alive "$(cat "$SSHD_DIR/sshd.pid" 2>/dev/null)" && [ -f "$SSHD_DIR/ssh_config" ] && \
   ssh -F "$SSHD_DIR/ssh_config" -o ConnectTimeout=3 ipp-sshd true 2>/dev/null; then
  echo "sshd already running on 127.0.0.1:$SSHD_PORT (pid $(cat "$SSHD_DIR/sshd.pid"))"; exit 0
fi
stop_pidfile "$SSHD_DIR/sshd.pid"
mkdir -p /run/sshd && chmod 0755 /run/sshd   # privilege-separation dir (systemd normally makes it)
# password field '*' (not '!'): with UsePAM no, sshd refuses even key logins to '!'-locked accounts
id "$SSHD_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash -p '*' "$SSHD_USER"
[ -f "$SSHD_DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/ssh_host_ed25519_key"
[ -f "$SSHD_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ipcluster-test -f "$SSHD_DIR/id_ed25519"
[ -f "$SSHD_DIR/refused_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C not-authorized -f "$SSHD_DIR/refused_ed25519"
for u in "$SSHD_USER" root; do cp "$SSHD_DIR/id_ed25519.pub" "$SSHD_DIR/authorized_keys/$u"; done
chmod 644 "$SSHD_DIR"/authorized_keys/*
cat > "$SSHD_DIR/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/ssh_host_ed25519_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys/%u
# the keys live under /tmp (mode 1777), which StrictModes would reject
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
PrintMotd no
X11Forwarding no
AllowTcpForwarding yes
# many engines on many aliases of this one server connect at once
MaxStartups 64:30:128
MaxSessions 32
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
CFG
/usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config"
# -D keeps sshd in the foreground so that $! is sshd itself; it must be started by absolute path
record_started sshd
setsid /usr/sbin/sshd -D -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" </dev/null >/dev/null 2>&1 &
echo $! > "$SSHD_DIR/sshd.pid"
hk=$(cut -d' ' -f1,2 "$SSHD_DIR/ssh_host_ed25519_key.pub")
printf '[127.0.0.1]:%s %s\n[localhost]:%s %s\n' "$SSHD_PORT" "$hk" "$SSHD_PORT" "$hk" > "$SSHD_DIR/known_hosts"
{
  echo "Host ipp-sshd ipp-host1 ipp-host2 ipp-host3 ipp-host4 ipp-host5 ipp-host6 ipp-host7 ipp-host8"
  echo "  HostName 127.0.0.1"
  echo "  Port $SSHD_PORT"
  echo "  User $SSHD_USER"
  echo "  IdentityFile $SSHD_DIR/id_ed25519"
  echo "  IdentitiesOnly yes"
  echo "  UserKnownHostsFile $SSHD_DIR/known_hosts"
  echo "  StrictHostKeyChecking yes"
  echo "  BatchMode yes"
  echo "  LogLevel ERROR"
} > "$SSHD_DIR/ssh_config"
wait_for 15 ssh -F "$SSHD_DIR/ssh_config" -o ConnectTimeout=2 ipp-sshd true
echo "sshd up on 127.0.0.1:$SSHD_PORT pid $(cat "$SSHD_DIR/sshd.pid"); try: ssh -F $SSHD_DIR/ssh_config ipp-host1 hostname"

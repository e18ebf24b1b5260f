# Helpers for the test harness scripts (setup-/teardown-slurm.sh, -sge.sh); source me.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
_APT_UPDATED_STAMP=/tmp/.infra-apt-updated
apt_install() { # apt_install pkg... : installs only the packages that are missing
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ ! -e "$_APT_UPDATED_STAMP" ]; then apt-get -o DPkg::Lock::Timeout=300 update -qq && touch "$_APT_UPDATED_STAMP"; fi
  # DPkg::Lock::Timeout: wait (up to 5 min) for another apt/dpkg run instead of failing
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
record_started() { # record_started NAME: this run started daemon NAME; `make test` stops it at the end
  # IPP_SERVICES_STARTED (set by `make test`) lists what to stop afterwards; without it (go test
  # by hand, make services-up) what starts stays up for the next run.
  if [ -n "${IPP_SERVICES_STARTED:-}" ]; then echo "$1" >> "$IPP_SERVICES_STARTED"; fi
}
pid_alive() { # running and not a zombie
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
stop_pidfile() { # stop_pidfile FILE [SIG]: kill the pid recorded in FILE, wait, remove FILE
  local f=$1 sig=${2:-TERM} pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if pid_alive "$pid"; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
wait_for() { # wait_for SECONDS CMD...: retry CMD every 0.2s until it succeeds
  local t=$1; shift
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && { echo "timeout waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}

#!/usr/bin/env bash
# Installs the Debian packages that the build, the tests and the benchmarks need, when they are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  python3-ipyparallel python3-jupyter-client python3-zmq  # the reference: real Client, ipengine, ipcontroller
  python3-pytest                          # compatibility tests against the real Python Client
  python3-distributed                     # dask: the scheduler the controller starts for Client.become_dask()
  procps                                  # ps/pgrep for the process-table checks in tests
  openmpi-bin                             # mpiexec: MPI-launched Go engines (ipengine --mpi) in the tests
  libzmq3-dev pkg-config gcc              # make build-libzmq: the libzmq transport through pebbe/zmq4 (cgo)
  parallel                                # GNU parallel: make bench runs ipcluster map beside parallel -j2 (bench/map_bench.py)
  openssh-server openssh-client           # the test sshd (scripts/setup-sshd.sh); ssh/scp for ipyparallel's SSH launcher in make bench
  chromium                                # headless browser: the dashboard's page tests (cmd/ipcluster dashboard_test.go, through chromedp)
  tmux                                    # a terminal for the tests of `ipcluster top` (send-keys, capture-pane)
)
# Slurm and Grid Engine are installed and started by scripts/setup-slurm.sh and setup-sge.sh
# (Grid Engine needs its debconf answers first), which the tests run through internal/harness.

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
cmd=(apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}")
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: run as root:  apt-get update && ${cmd[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
apt-get -o DPkg::Lock::Timeout=300 update -qq
"${cmd[@]}" >/dev/null
echo "deps: installed"

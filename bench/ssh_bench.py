"""ipcluster start over SSH, ours next to ipyparallel's, in one run.

16 Python engines (`/usr/bin/python3 -m ipyparallel.engine`) over 8 host aliases of the test
sshd (scripts/setup-sshd.sh: 127.0.0.1, key-only auth, the unprivileged test user), 2 per
host. For each variant: `ipcluster start --engines=ssh -n 16 --daemonize` in a fresh
IPYTHONDIR, timed until a Python Client sees 16 engines registered; then `ipcluster stop`,
timed until no process of the cluster is left. Both read the same ipcluster_config.py:
ipyparallel's SSH launcher (ssh + scp with `-F ssh_config`, remote_python='/usr/bin/python3')
and ours (one in-process SSH connection per host, SFTP, hosts in parallel). Medians of --runs.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("IPCLUSTER_BIN") or os.path.join(HERE, "..", "bin")
SSHD_DIR = os.environ.get("SSHD_DIR", "/tmp/ipcluster-sshd")
SSHD_USER = os.environ.get("SSHD_USER", "ipptest")
HOSTS = [f"ipp-host{i}" for i in range(1, 9)]

sys.path.insert(0, HERE)
from ipcluster_bench import compare, time_start_stop  # noqa: E402  (shared timing, clean-up, report)

CONFIG = """c = get_config()
c.SSHEngineSetLauncher.engines = {engines!r}
c.SSHLauncher.ssh_args = ['-F', {cfg!r}]
c.SSHLauncher.scp_args = ['-F', {cfg!r}]
c.SSHLauncher.remote_python = '/usr/bin/python3'
c.SSHLauncher.remote_profile_dir = {rpd!r}
c.SSHEngineSetLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']
"""


def run_variant(name, n):
    tmp = tempfile.mkdtemp(prefix="ssh-bench-")
    rel = f"ssh-bench-{os.getpid()}-{time.monotonic_ns()}"
    rpd = f"{rel}/profile_default"
    markers = [tmp, rel]
    env = dict(os.environ, IPYTHONDIR=tmp)
    prof = os.path.join(tmp, "profile_default")
    os.makedirs(prof)
    per_host = n // len(HOSTS)
    with open(os.path.join(prof, "ipcluster_config.py"), "w") as f:
        f.write(CONFIG.format(engines={h: per_host for h in HOSTS}, cfg=os.path.join(SSHD_DIR, "ssh_config"), rpd=rpd))
    ipcluster = ["/usr/bin/ipcluster"] if name == "python" else [os.path.join(BIN, "ipcluster")]
    try:
        return time_start_stop(name, ipcluster, ["--engines=ssh"], env, n, markers, timeout=300)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(os.path.join(os.path.expanduser(f"~{SSHD_USER}"), rel), ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("-n", type=int, default=16)
    args = ap.parse_args()
    subprocess.run([os.path.join(HERE, "..", "scripts", "setup-sshd.sh")], check=True, stdout=subprocess.DEVNULL)
    compare(["python", "ours"], args.runs, run_variant, args.n,
            f"ipcluster start --engines=ssh -n {args.n} over {len(HOSTS)} host aliases until {args.n} "
            "Python engines registered, then ipcluster stop")


if __name__ == "__main__":
    main()

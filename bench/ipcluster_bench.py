"""ipcluster start/stop, ours next to ipyparallel's, in one run.

For each variant: `ipcluster start -n N --daemonize` in a fresh IPYTHONDIR, timed until a
Python Client sees N engines registered; then `ipcluster stop`, timed until no process of
the cluster is left. Variants: ipyparallel's ipcluster with Python engines; ours with
Python engines (c.EngineLauncher.engine_cmd); ours with Go engines. Medians of --runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
BIN = os.environ.get("IPCLUSTER_BIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin")

COUNT = """
import sys, time, ipyparallel as ipp
n = int(sys.argv[1]); deadline = time.monotonic() + 180
while True:
    try:
        c = ipp.Client(timeout=30); break
    except Exception:
        if time.monotonic() > deadline: raise
        time.sleep(0.02)
c.wait_for_engines(n, timeout=180)
c.close()
"""


def leftovers(markers):
    """Pids of live processes whose command line mentions a marker or whose IPYTHONDIR is one."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
        except (OSError, IndexError):
            continue
        if any(m.encode() in cmd or f"IPYTHONDIR={m}".encode() in env for m in markers):
            found.append(pid)
    return found


def time_start_stop(name, ipcluster, start_args, env, n, markers, timeout=180):
    """Times `ipcluster start ... --daemonize` until a Python Client sees n engines, then
    `ipcluster stop` until no process of the cluster is left; kills leftovers either way."""
    try:
        t0 = time.monotonic()
        subprocess.run(ipcluster + ["start", "-n", str(n), "--daemonize"] + start_args, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        subprocess.run([PY, "-c", COUNT, str(n)], env=env, check=True, timeout=timeout)
        started = time.monotonic() - t0
        t0 = time.monotonic()
        subprocess.run(ipcluster + ["stop"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        deadline = time.monotonic() + 60
        while leftovers(markers) and time.monotonic() < deadline:
            time.sleep(0.01)
        stopped = time.monotonic() - t0
        if leftovers(markers):
            raise RuntimeError(f"{name}: processes left after stop: {leftovers(markers)}")
        return started, stopped
    finally:
        for pid in leftovers(markers):
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


def run_variant(name, n):
    tmp = tempfile.mkdtemp(prefix="ipcluster-bench-")
    env = dict(os.environ, IPYTHONDIR=tmp)
    prof = os.path.join(tmp, "profile_default")
    os.makedirs(prof)
    start_args = []
    if name == "python":
        ipcluster = ["/usr/bin/ipcluster"]
    else:
        ipcluster = [os.path.join(BIN, "ipcluster")]
        if name == "ours+python engines":
            # engine_cmd rather than --engine-kind=python: no Python lookup in the timing,
            # which keeps the numbers comparable with earlier runs
            with open(os.path.join(prof, "ipcluster_config.py"), "w") as f:
                f.write("c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']\n")
        else:
            start_args = ["--engine-kind=go"]  # auto would choose Python engines here
    try:
        return time_start_stop(name, ipcluster, start_args, env, n, [tmp])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(variants, runs, run_variant, n, title):
    """Runs every variant `runs` times (interleaved, so drift in machine load hits all alike)
    and prints medians with ratios against the first variant, ipyparallel's."""
    results = {v: ([], []) for v in variants}
    for r in range(runs):
        for v in variants:
            s, t = run_variant(v, n)
            results[v][0].append(s)
            results[v][1].append(t)
            print(f"run {r + 1}: {v:22s} start {s:6.2f} s  stop {t:6.2f} s", file=sys.stderr)
    med = {v: (statistics.median(a), statistics.median(b)) for v, (a, b) in results.items()}
    ref_start, ref_stop = med[variants[0]]
    print(f"\n{title} (median of {runs} runs; ratio = Python's time / ours, >1 means ours is faster)")
    print(f"{'variant':24s} {'start (s)':>10s} {'ratio':>7s} {'stop (s)':>10s} {'ratio':>7s}")
    for v in variants:
        s, t = med[v]
        print(f"{v:24s} {s:10.2f} {ref_start / s:7.1f} {t:10.2f} {ref_stop / t:7.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("-n", type=int, default=4)
    args = ap.parse_args()
    compare(["python", "ours+python engines", "ours+go engines"], args.runs, run_variant, args.n,
            f"ipcluster start -n {args.n} --daemonize until {args.n} engines registered, then ipcluster stop")


if __name__ == "__main__":
    main()

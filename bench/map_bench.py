"""`ipcluster map` next to GNU parallel: N trivial commands (`true {}`), side by side.

Our side: `ipcluster start -n 2 --engine-kind=go` in a fresh IPYTHONDIR, then
`ipcluster map --each-line FILE -- true {}` timed from start to exit (connecting, asking the
engines, submitting every task and collecting every reply included). GNU parallel's side:
`parallel -j2 true ::: ...` on the same inputs. The bare command is xargs running
`/bin/sh -c 'true N'` one after another (what an engine runs per task), which gives the
cost of the command itself; per-task overhead is what each tool adds to it per task per
slot: wall time x slots / N - bare time per command.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("IPCLUSTER_BIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin")
SLOTS = 2


def timed(argv, **kw):
    t0 = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=20000)
    args = ap.parse_args()
    n = args.tasks
    if not shutil.which("parallel"):
        sys.exit("map_bench: GNU parallel is missing (Debian package parallel; `make deps`)")
    ipcluster = os.path.join(BIN, "ipcluster")
    tmp = tempfile.mkdtemp(prefix="map-bench-")
    env = dict(os.environ, IPYTHONDIR=tmp)
    inputs = os.path.join(tmp, "inputs")
    with open(inputs, "w") as f:
        f.write("".join(f"{i}\n" for i in range(1, n + 1)))
    try:
        subprocess.run([ipcluster, "start", "-n", str(SLOTS), "--engine-kind=go", "--daemonize"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ours = timed([ipcluster, "map", "--each-line", inputs, "--progress-interval", "0", "--", "true {}"], env=env)
    finally:
        subprocess.run([ipcluster, "stop", "--all"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    theirs = timed(["parallel", "-j%d" % SLOTS, "true"] + [":::"] + [str(i) for i in range(1, n + 1)])
    with tempfile.TemporaryFile("w+") as f:
        f.write("".join(f"{i}\n" for i in range(1, n + 1)))
        f.seek(0)
        bare = timed(["xargs", "-P1", "-n1", "/bin/sh", "-c", 'true "$0"'], stdin=f)
    bare_each = bare / n
    print(f"map bench: {n} x `true {{}}` with {SLOTS} slots (bare command: {bare_each * 1e3:.2f} ms each, xargs serial)")
    print(f"  {'':28s} {'wall s':>8s} {'tasks/s':>9s} {'overhead ms/task':>17s}")
    for name, wall in ((f"ipcluster map, {SLOTS} Go engines", ours), (f"GNU parallel -j{SLOTS}", theirs)):
        overhead = wall * SLOTS / n - bare_each
        print(f"  {name:28s} {wall:8.2f} {n / wall:9.1f} {overhead * 1e3:17.2f}")
    print(f"  ipcluster map / GNU parallel throughput: {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Benchmark our Go ipcontroller against ipyparallel's Python controller, side by side.

Each run starts, for each controller, a fresh cluster (controller + 2 real Python engines,
the real Python Client) and measures:

  * registration   time from controller process start to the Client seeing 2 engines
  * map            lview.map_sync(lambda x: x, range(2000))            (tasks/s)
  * apply_async    2000 x lview.apply_async(...) then client.wait()     (tasks/s)
  * direct rtt     median of 200 x client[0].apply_sync(lambda: None)   (ms)

and prints the median over the runs for each controller plus the ratio ours/python,
oriented so that > 1 means ours is better.

    IPCLUSTER_BIN=/work/main/bin /usr/bin/python3 bench/controller_bench.py [--runs N]
    /usr/bin/python3 bench/controller_bench.py --only python      # without our binary
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ippbench  # noqa: E402

# name, label, unit, higher_is_better, formatter
METRICS = [
    ("registration_s", "controller start -> 2 engines", "s", False, lambda v: f"{v:.2f}"),
    ("map_tps", "map_sync(range(N)) throughput", "tasks/s", True, lambda v: f"{v:.0f}"),
    ("apply_async_tps", "N x apply_async + wait", "tasks/s", True, lambda v: f"{v:.0f}"),
    ("direct_rtt_ms", "c[0].apply_sync median RTT", "ms", False, lambda v: f"{v:.2f}"),
]


def run_once(kind, args):
    cluster = ippbench.Cluster(kind=kind, n=2, name="bench")
    try:
        client = cluster.start(engines_timeout=120)
        result = {"registration_s": cluster.registration_seconds}
        ippbench.warm_up(client)
        result["map_tps"] = ippbench.measure_map(client, args.tasks)
        result["apply_async_tps"] = ippbench.measure_apply_async(client, args.tasks)
        result["direct_rtt_ms"] = 1000 * ippbench.measure_direct_rtt(client, args.rtt_samples)
        return result
    finally:
        problems = cluster.stop()
        if problems:
            print(f"warning: {kind} cluster teardown: " + "; ".join(problems), file=sys.stderr)


def ratio(name, ours, python):
    higher_is_better = {m[0]: m[3] for m in METRICS}[name]
    if not ours or not python:
        return None
    return ours / python if higher_is_better else python / ours


def print_table(kinds, medians, runs):
    headers = ["metric", "unit"] + [f"{k} (median)" for k in kinds]
    if len(kinds) == 2:
        headers.append("ours vs python")
    rows = []
    for name, label, unit, _, fmt in METRICS:
        row = [label, unit] + [fmt(medians[k][name]) for k in kinds]
        if len(kinds) == 2:
            r = ratio(name, medians["ours"][name], medians["python"][name])
            row.append("n/a" if r is None else f"{r:.2f}x")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join("-" * w for w in widths)
    print()
    print(f"ipyparallel controller benchmark: {runs} run(s), 2 Python engines, "
          f"median per figure" + ("; ratio > 1 means ours is better" if len(kinds) == 2 else ""))
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per controller (default 3)")
    parser.add_argument("--only", choices=ippbench.KINDS, help="benchmark only this controller")
    parser.add_argument("--tasks", type=int, default=2000, help="tasks for the throughput figures")
    parser.add_argument("--rtt-samples", type=int, default=200, help="samples for the direct RTT")
    parser.add_argument("--json", metavar="FILE", help="also write all raw figures to FILE")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")

    kinds = [args.only] if args.only else ["ours", "python"]
    if "ours" in kinds and not os.access(ippbench.our_controller_path(), os.X_OK):
        parser.error(f"{ippbench.our_controller_path()} not found: run `make build`, set "
                     f"IPCLUSTER_BIN, or use --only python")

    samples = {k: [] for k in kinds}
    t0 = time.monotonic()
    load_start = os.getloadavg()[0]
    for i in range(args.runs):
        # alternate the order so neither controller always runs on a "warmer" machine
        order = kinds if i % 2 == 0 else list(reversed(kinds))
        for kind in order:
            res = run_once(kind, args)
            samples[kind].append(res)
            figures = ", ".join(f"{name}={fmt(res[name])}" for name, _, _, _, fmt in METRICS)
            print(f"run {i + 1}/{args.runs} {kind:6s}: {figures}", flush=True)

    medians = {k: {name: statistics.median(r[name] for r in samples[k]) for name, *_ in METRICS}
               for k in kinds}
    print_table(kinds, medians, args.runs)
    print(f"(total {time.monotonic() - t0:.0f}s; {args.tasks} tasks per throughput figure, "
          f"{args.rtt_samples} RTT samples; 1-min load average {load_start:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs: other work on the machine "
          f"skews the figures)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs, "samples": samples, "medians": medians}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

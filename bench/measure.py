#!/usr/bin/env python3
"""Runs commands interleaved (A B C A B C ...) so a noisy machine affects all
equally, and reports the median wall time, CPU time (user + system) and peak RSS of
each, measured by wait4(2) in bench/run.c (a small parent: see there why). "Overhead" is wall time minus the CPU sample window the
command was given: what the work itself costs.

Usage: measure.py SPEC.json RUNS  (SPEC: [{"name", "argv", "window_ms"}, ...])
Prints a Markdown table, then writes the medians as JSON to stdout's last line."""
import json
import os
import statistics
import subprocess
import sys


RUN = os.path.join(os.path.dirname(__file__), "..", "target", "bench", "run")


def run_once(argv):
    out = subprocess.run([RUN, *argv], capture_output=True, text=True, check=True).stdout
    wall, cpu, rss_kb, code = out.split()
    if code != "0":
        sys.exit(f"{argv[0]} exited {code}")
    return float(wall), float(cpu), int(rss_kb) / 1024


def main():
    specs = json.load(open(sys.argv[1]))
    runs = int(sys.argv[2])
    samples = {s["name"]: [] for s in specs}
    for spec in specs:  # one warm-up run each: page cache, not part of the result
        run_once(spec["argv"])
    for _ in range(runs):
        for spec in specs:
            samples[spec["name"]].append(run_once(spec["argv"]))
    results = {}
    print(f"| command | wall ms | overhead ms | CPU ms | peak RSS MiB |")
    print(f"|---|---:|---:|---:|---:|")
    for spec in specs:
        walls, cpus, rss = zip(*samples[spec["name"]])
        r = dict(wall=statistics.median(walls), cpu=statistics.median(cpus), rss=statistics.median(rss))
        r["overhead"] = r["wall"] - spec["window_ms"]
        results[spec["name"]] = r
        print(f"| {spec['name']} | {r['wall']:.1f} | {r['overhead']:.1f} | {r['cpu']:.1f} | {r['rss']:.1f} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

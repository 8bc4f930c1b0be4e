"""What psutil's process_iter costs for the work rreport's process collector does:
one pass reading each process's CPU times, memory and state, and one of its I/O
counters. Prints CPU milliseconds (user + system)
of the passes alone, without the interpreter's start-up, as the median of N runs.
Usage: processes.py RUNS"""
import statistics
import sys
import time

import psutil


def passes():
    started = time.process_time()
    for p in psutil.process_iter(["cpu_times", "memory_info", "status", "name"]):
        pass
    for p in psutil.process_iter(["io_counters"]):
        pass
    return (time.process_time() - started) * 1000


runs = int(sys.argv[1])
print(f"{statistics.median(passes() for _ in range(runs)):.2f}")

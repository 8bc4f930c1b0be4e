"""What psutil's process_iter costs for the work rreport's process collector does:
two passes (the two ends of the CPU window) reading each process's CPU times,
memory and state, plus one of I/O counters. Prints CPU milliseconds (user + system)
of the passes alone, without the interpreter's start-up, as the median of N runs.
Usage: processes.py RUNS"""
import statistics
import sys
import time

import psutil


def passes():
    started = time.process_time()
    for _ in range(2):
        for p in psutil.process_iter(["cpu_times", "memory_info", "status", "name"]):
            pass
    for p in psutil.process_iter(["io_counters"]):
        pass
    return (time.process_time() - started) * 1000


runs = int(sys.argv[1])
print(f"{statistics.median(passes() for _ in range(runs)):.2f}")

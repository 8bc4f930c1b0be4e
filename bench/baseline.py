#!/usr/bin/env python3
"""The classic approach rreport replaces: psutil + jinja2, the same five things,
an equivalent HTML table. Usage: baseline.py INTERVAL_SECONDS"""
import socket
import sys
import time

import jinja2
import psutil

TEMPLATE = jinja2.Template("""<!DOCTYPE html><html><body>
<h1>{{ hostname }}</h1>
<table>
<tr><td>Booted</td><td>{{ boot }}</td></tr>
<tr><td>CPU busy</td><td>{{ cpu }}% of {{ logical }} CPUs, load {{ load|join(', ') }}</td></tr>
<tr><td>Memory used</td><td>{{ mem.used }} of {{ mem.total }} ({{ mem.percent }}%)</td></tr>
<tr><td>Swap used</td><td>{{ swap.used }} of {{ swap.total }} ({{ swap.percent }}%)</td></tr>
</table>
<table>{% for d in disks %}<tr><td>{{ d.mount }}</td><td>{{ d.device }}</td><td>{{ d.fstype }}</td>
<td>{{ d.used }} of {{ d.total }} ({{ d.percent }}%)</td></tr>{% endfor %}</table>
</body></html>""", autoescape=True)


def main():
    interval = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    cpu = psutil.cpu_percent(interval=interval)
    mem = psutil.virtual_memory()
    disks = []
    for p in psutil.disk_partitions(all=False):
        try:
            u = psutil.disk_usage(p.mountpoint)
        except OSError:
            continue
        disks.append(dict(mount=p.mountpoint, device=p.device, fstype=p.fstype,
                          used=u.used, total=u.total, percent=u.percent))
    html = TEMPLATE.render(
        hostname=socket.gethostname(),
        boot=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(psutil.boot_time())),
        cpu=cpu, logical=psutil.cpu_count(), load=[round(x, 2) for x in psutil.getloadavg()],
        mem=dict(used=mem.total - mem.available, total=mem.total, percent=mem.percent),
        swap=psutil.swap_memory(), disks=disks)
    sys.stdout.write(html)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The admin's edits to the package's example config, for the system test: a report
every minute, a sample every 5 s, the sink as relay, a systemd check. Prints it.
    config.py EXAMPLE PORT [slow|blackholed|broken]
slow: short timeouts and ten recipients, so that one delivery to a relay that
takes 4 s per reply outlasts WatchdogSec=50s; blackholed: three relays that never
answer; broken: a syntax error (line 10)."""
import re, sys

example, port = open(sys.argv[1]).read(), sys.argv[2]
variant = sys.argv[3] if len(sys.argv) > 3 else ""
edits = [
    (r'(?m)^schedule = .*$', 'schedule = "* * * * *"'),
    (r'(?m)^# sample_interval_secs = 60$', "sample_interval_secs = 5"),
    (r'(?m)^host = "smtp.example.com"$', 'host = "127.0.0.1"'),
    (r'(?m)^tls = "starttls"$', 'tls = "none"'),
    (r'(?m)^port = 587$', "port = %s" % port),
    (r'(?m)^from = .*$', 'from = "rreport <rreport@rr.test>"'),
    (r'(?m)^to = .*$', 'to = ["admin@rr.test"]'),
]
if variant == "slow":
    to = ", ".join('"admin%d@rr.test"' % i for i in range(10))
    edits[-1] = (r'(?m)^to = .*$', "to = [%s]" % to)
    edits.append((r'(?m)^timeout_secs = 30$', "timeout_secs = 5"))
    edits.append((r'(?m)^collector_timeout_secs = 10$', "collector_timeout_secs = 5"))
    edits.append((r'(?m)^# \[journal\]$', "[journal]\ntimeout_secs = 5"))
if variant == "blackholed":
    edits[2] = (r'(?m)^host = "smtp.example.com"$',
                'host = ["127.0.0.1:2526", "127.0.0.1:2527", "127.0.0.1:2528"]')
    edits[4] = (r'(?m)^port = 587$', "")
for pattern, text in edits:
    example, n = re.subn(pattern, text, example, count=1)
    assert n == 1, pattern
example += '\n[[checks]]\nname = "journald"\nsystemd = "systemd-journald.service"\n'
if variant == "broken":
    lines = example.split("\n")
    lines[9] = 'schedule = "* * * * *'
    example = "\n".join(lines)
print(example, end="")

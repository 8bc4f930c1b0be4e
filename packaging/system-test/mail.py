#!/usr/bin/env python3
"""Reads the sink's messages for the system test (on the host).
    mail.py first-after EPOCH DIR   the text part of the first message whose Date
                                    is at or after EPOCH (nothing if none yet)
    mail.py ids DIR                 every message's Message-ID, one a line"""
import email, email.policy, email.utils, os, sys


def messages(spool):
    for name in sorted(os.listdir(spool)):
        if name.endswith(".eml"):
            with open(os.path.join(spool, name), "rb") as f:
                yield email.message_from_binary_file(f, policy=email.policy.default)


if sys.argv[1] == "first-after":
    since, spool = float(sys.argv[2]), sys.argv[3]
    for m in messages(spool):
        if email.utils.parsedate_to_datetime(m["Date"]).timestamp() >= since:
            print("Subject: " + m["Subject"])
            print(m.get_body(preferencelist=("plain",)).get_content())
            break
elif sys.argv[1] == "ids":
    for m in messages(sys.argv[2]):
        print(m["Message-ID"])

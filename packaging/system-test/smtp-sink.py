#!/usr/bin/python3
"""An SMTP sink for the system test, run inside the booted Debian (python3-minimal:
socket and threading only). Listens on 127.0.0.1:PORT, takes every message and
saves it as DIR/NNNN.eml. A file DIR/delay holding a number of seconds makes it wait
that long before each reply after the greeting (a slow relay); DIR/in-data exists
while it holds the reply to a message's end (a delivery in flight).
With --tarpit it accepts connections and never says a word.
    smtp-sink.py PORT DIR [--tarpit]"""
import os, socket, sys, threading, time

port, spool = int(sys.argv[1]), sys.argv[2]
tarpit = "--tarpit" in sys.argv
os.makedirs(spool, exist_ok=True)
lock = threading.Lock()


def delay():
    try:
        with open(os.path.join(spool, "delay")) as f:
            time.sleep(float(f.read().strip() or 0))
    except FileNotFoundError:
        pass


def save(data):
    with lock:
        n = len([f for f in os.listdir(spool) if f.endswith(".eml")]) + 1
        tmp = os.path.join(spool, "%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(spool, "%04d.eml" % n))


def serve(conn):
    f = conn.makefile("rb")
    say = lambda line: conn.sendall(line.encode() + b"\r\n")
    say("220 sink ESMTP")
    while True:
        line = f.readline()
        if not line:
            return
        verb = line.strip().upper()
        delay()
        if verb.startswith(b"EHLO"):
            conn.sendall(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        elif verb == b"DATA":
            say("354 go on")
            data = b""
            while True:
                chunk = f.readline()
                if not chunk or chunk in (b".\r\n", b".\n"):
                    break
                data += chunk[1:] if chunk.startswith(b"..") else chunk
            marker = os.path.join(spool, "in-data")
            open(marker, "w").close()
            delay()
            save(data)
            os.unlink(marker)
            say("250 2.0.0 queued")
        elif verb == b"QUIT":
            say("221 bye")
            return
        else:
            say("250 ok")


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
held = []
while True:
    conn, _ = listener.accept()
    if tarpit:
        held.append(conn)
        continue
    threading.Thread(target=lambda c=conn: (serve(c), c.close()), daemon=True).start()

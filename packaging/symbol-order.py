#!/usr/bin/env python3
"""Names the functions callgrind saw run in a stripped binary, in the order they
first ran, from the linker's map of that very build (the names of a build with
symbols kept differ: cargo hashes the profile, strip included, into them).

Usage: symbol-order.py MAP BINARY_NAME CALLGRIND_OUT... > symbol-order.txt"""
import bisect
import re
import sys

TEXT = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+.*:\(\.text\.(\S+)\)$")
OBJECT = re.compile(r"^(c?ob)=\((\d+)\)(?: (.*))?$")
FUNCTION = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")


def text_sections(path):
    """(start, end, symbol) of each function's input section, by start."""
    sections = []
    for line in open(path, errors="replace"):
        m = TEXT.match(line)
        if m and int(m.group(2), 16) > 0:
            start = int(m.group(1), 16)
            sections.append((start, start + int(m.group(2), 16), m.group(3)))
    return sorted(sections)


def ran(path, binary):
    """Addresses of the functions of `binary` that ran, in the order they first did."""
    objects, names, order = {}, {}, []
    current = None
    for line in open(path, errors="replace"):
        m = OBJECT.match(line)
        if m:
            kind, ident, name = m.groups()
            if name:
                objects[ident] = name
            if kind == "ob":
                current = objects.get(ident, "")
            continue
        m = FUNCTION.match(line)
        if m:
            kind, ident, name = m.groups()
            if name:
                names[ident] = name
            if kind == "fn" and current.endswith("/" + binary):
                order.append(names.get(ident, ""))
    # A recursive call's level follows a quote: 0x…'2.
    return [int(n.split("'")[0], 16) for n in order if n.startswith("0x")]


def main():
    sections = text_sections(sys.argv[1])
    starts = [s[0] for s in sections]
    seen, hits, misses = set(), 0, 0
    for out in sys.argv[3:]:
        for address in ran(out, sys.argv[2]):
            i = bisect.bisect_right(starts, address) - 1
            if i < 0 or address >= sections[i][1]:
                misses += 1
                continue
            hits += 1
            name = sections[i][2]
            if name not in seen:
                seen.add(name)
                print(name)
    print(f"{len(seen)} functions ({hits} addresses named, {misses} outside any)", file=sys.stderr)
    if hits == 0 or misses > hits:
        sys.exit("the profile does not match the map: built from another build?")


if __name__ == "__main__":
    main()

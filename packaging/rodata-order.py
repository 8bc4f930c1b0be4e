#!/usr/bin/env python3
"""The read-only data a report reads, laid out together: a linker script for lld
(packaging/rodata-order.ld) that puts those constants in an output section of their
own, .rodata.hot, ahead of .rodata. The kernel maps a binary 64 KiB around each page
touched, and a preview reads only some 80 KB of the binary's 0.8 MB of constants
(string literals, tables, the templates' text), scattered over all of it.

lld's symbol ordering file cannot name them: most are anonymous (.Lanon.*), but the
linker's map names each one's input section, and a linker script can order input
sections. `INSERT BEFORE .rodata` keeps the rest of lld's default layout. The
merged pools of string literals and small constants (.rodata.str1.1, .rodata.cst*)
go first: every tier reads them, and they cannot be split.

Usage:
  valgrind --tool=lackey --trace-mem=yes -v -v --log-fd=9 BINARY ... 9>&1 \\
      | rodata-order.py touched BINARY > TOUCHED
  rodata-order.py script MAP TOUCHED... > rodata-order.ld
`touched` reduces lackey's trace (every load and store, 15 million lines for a
preview) to the link-time addresses read in BINARY, one per 16 bytes; `script`
names the input sections they fall in, profile by profile as given (tiers, as
symbol-order.sh's), each adding the sections the ones before did not read."""
import bisect
import re
import sys

GRANULE = 16
# valgrind -v -v, on loading an object: "Reading syms from PATH", then its
# "svma 0x…, avma 0x…": where the object was linked to run, and where it runs.
READING = re.compile(r"^--\d+-- Reading syms from (\S+)")
MAPPED = re.compile(r"^--\d+--\s+svma 0x([0-9a-f]+), avma 0x([0-9a-f]+)")
# An input section of read-only data in lld's map: VMA, LMA, size, alignment,
# file:(section). Pools the linker made (<internal>) are named in the script apart.
SECTION = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+[^<\s]\S*:\((\.rodata\.[^)]+)\)$")
POOLS = "*(.rodata.str1.1) *(.rodata.cst32) *(.rodata.cst16) *(.rodata.cst8) *(.rodata.cst4)"


def touched(binary):
    """Reads lackey's trace on stdin; prints the granules of BINARY it touched."""
    bias, reading, seen = None, False, set()
    for line in sys.stdin:
        if line[0] == "-":
            m = READING.match(line)
            if m:
                reading = m.group(1).endswith("/" + binary)
                continue
            m = MAPPED.match(line)
            if m and reading and bias is None:
                bias = int(m.group(2), 16) - int(m.group(1), 16)
            continue
        if bias is None or line[1] not in "LSM":  # instructions are "I  …"
            continue
        address, size = line[3:].split(",")
        start = int(address, 16) - bias
        if not 0 <= start < 1 << 28:  # the heap, the stacks, the libraries
            continue
        for granule in range(start // GRANULE, (start + int(size)) // GRANULE + 1):
            seen.add(granule)
    if bias is None:
        sys.exit(f"no {binary} in the trace: run valgrind with -v -v")
    for granule in sorted(seen):
        print(f"{granule * GRANULE:x}")


def data_sections(path):
    """(start, end, section) of each constant's input section, by start."""
    found = []
    for line in open(path, errors="replace"):
        m = SECTION.match(line)
        if m and int(m.group(2), 16):
            start = int(m.group(1), 16)
            found.append((start, start + int(m.group(2), 16), m.group(3)))
    return sorted(found)


def script(map_path, profiles):
    sections = data_sections(map_path)
    starts = [s[0] for s in sections]
    seen, order, size = set(), [], 0
    for path in profiles:
        for line in open(path):
            granule = int(line, 16)
            i = max(bisect.bisect_right(starts, granule) - 1, 0)
            while i < len(sections) and sections[i][0] < granule + GRANULE:
                start, end, name = sections[i]
                if end > granule and name not in seen:
                    seen.add(name)
                    order.append(name)
                    size += end - start
                i += 1
    if not order:
        sys.exit("no constant of the map was read: the traces are of another build?")
    print("/* packaging/rodata-order.py: the constants a report reads, together. */")
    print(f"SECTIONS {{\n  .rodata.hot : {{\n    {POOLS}")
    for name in order:
        print(f"    *({name})")
    print("  }\n} INSERT BEFORE .rodata;")
    print(f"{len(order)} constants, {size // 1024} KB", file=sys.stderr)


def main():
    if sys.argv[1:2] == ["touched"] and len(sys.argv) == 3:
        touched(sys.argv[2])
    elif sys.argv[1:2] == ["script"] and len(sys.argv) > 3:
        script(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

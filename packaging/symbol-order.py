#!/usr/bin/env python3
"""Names the functions callgrind saw run in a stripped binary, from the linker's map
of that very build (the names of a build with symbols kept differ: cargo hashes the
profile, strip included, into them). Profile by profile, as given (the tiers of
symbol-order.sh), each adding the functions the ones before did not run.

Usage: symbol-order.py MAP BINARY_NAME CALLGRIND_OUT... > symbol-order.txt"""
import bisect
import re
import sys

# An input section of code in lld's map: VMA, LMA, size, alignment, file:(section).
# LLVM names a function's section .text.<symbol>, or .text.unlikely.<symbol> (and
# .hot., .startup., .exit.) where it judged the function cold or special: the
# symbol is what the linker's ordering file names.
SECTION = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+.*:\((\.text[^)]*)\)$")
PREFIX = re.compile(r"^\.text\.(?:(?:unlikely|hot|startup|exit|split)\.)?")
# A symbol row under a section: VMA, LMA, size, alignment, name.
SYMBOL = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\d+\s+([A-Za-z_][A-Za-z0-9_.$]*)$")
OBJECT = re.compile(r"^(c?ob)=\((\d+)\)(?: (.*))?$")


def text_sections(path):
    """(start, end, symbol) of each function's input section, by start. A plain
    .text section (of an object built without a section per function, as the C
    start-up code) is named by the first symbol in it."""
    sections, unnamed = [], None
    for line in open(path, errors="replace"):
        m = SECTION.match(line)
        if m:
            start, size, section = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            unnamed = None
            if size == 0:
                continue
            if section == ".text":
                unnamed = (start, start + size)
            elif section.startswith(".text."):
                sections.append((start, start + size, PREFIX.sub("", section)))
            continue
        m = SYMBOL.match(line)
        if m and unnamed:
            sections.append((*unnamed, m.group(1)))
            unnamed = None
    return sorted(sections)


def ran(path, binary):
    """Addresses of the instructions of `binary` that ran (callgrind's cost lines,
    --dump-instr=yes --compress-pos=no), by function as callgrind listed them.
    Instructions, not callgrind's functions: in a stripped binary it knows a
    function only by a call to it, and code reached by a jump (a tail call, a
    closure's shim) would be counted in its caller's and left out of the order."""
    objects, addresses = {}, []
    current = ""
    for line in open(path, errors="replace"):
        m = OBJECT.match(line)
        if m:
            kind, ident, name = m.groups()
            if name:
                objects[ident] = name
            if kind == "ob":
                current = objects.get(ident, "")
            continue
        if line.startswith("0x") and current.endswith("/" + binary):
            addresses.append(int(line.split(None, 1)[0], 16))
    return addresses


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

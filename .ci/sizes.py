#!/usr/bin/env python3
"""House rules of size, outside tests (everything from a file's `#[cfg(test)]` on):
no source file over 500 lines, no function over 60. Reads rustfmt-formatted code, so
a function ends at the first line that is its own indentation and `}`. Run by
.ci/run; exits 1 naming each file or function over its limit."""
import pathlib
import re
import sys

FILE_MAX, FN_MAX = 500, 60
FN = re.compile(r"^(\s*)(?:pub(?:\([a-z]+\))? )?(?:const )?(?:async )?fn (\w+)")


def main() -> int:
    src = pathlib.Path(__file__).resolve().parent.parent / "src"
    bad = []
    for path in sorted(src.rglob("*.rs")):
        lines = path.read_text().splitlines()
        end = next((i for i, l in enumerate(lines) if l.startswith("#[cfg(test)]")), len(lines))
        body = lines[:end]
        if len(body) > FILE_MAX:
            bad.append(f"{path}: {len(body)} lines outside tests (at most {FILE_MAX}); split it along its ideas")
        for i, line in enumerate(body):
            m = FN.match(line)
            if not m:
                continue
            close = m.group(1) + "}"
            length = next((j - i + 1 for j in range(i + 1, len(body)) if body[j] == close), 0)
            if length > FN_MAX:
                bad.append(f"{path}:{i + 1}: fn {m.group(2)} is {length} lines (at most {FN_MAX})")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The import rule: data flows one way, so a module may use only modules of lower
layers (config -> collect -> status -> report -> mail -> delivery -> daemon; leaves
at the bottom). Reads every `crate::name` in src/ and fails, naming file and line,
when one reaches up or sideways to a module of its own layer or above, or names a
module this table does not place (a new module must be given a layer here).
Within a folder, files must not use each other in a circle either (`super::` uses).
Run by .ci/run; exits 1 on a violation."""
import pathlib
import re
import sys

# Higher layers use lower ones. Modules of one layer do not use each other.
LAYERS = [
    ["main"],
    ["lib"],
    ["commands"],
    ["daemon"],
    ["pipeline"],
    ["delivery"],
    ["late"],
    ["smtp", "mail"],
    ["report", "textfile", "fleet"],
    ["status"],
    ["outbox", "previous", "history"],
    ["config"],
    ["collect"],
    ["schedule", "agenda", "clock"],
    ["state"],
    ["context", "sections", "zone", "secret", "atomic", "cli", "exit", "logging", "math", "notify", "regular", "units"],
]
RANK = {m: len(LAYERS) - i for i, layer in enumerate(LAYERS) for m in layer}
USE = re.compile(r"\bcrate::([a-z_]+)")


def module_of(path: pathlib.Path, src: pathlib.Path) -> str:
    first = path.relative_to(src).parts[0]
    return first[:-3] if first.endswith(".rs") else first


SIBLING = re.compile(r"\bsuper::(?:\{([^}]*)\}|([a-z_]+))")


def sibling_cycles(src: pathlib.Path) -> list:
    """Within each folder, files that use each other through `super::` (a circle the
    layers cannot see, since both are one module to them)."""
    found = []
    for folder in sorted({p.parent for p in src.rglob("*.rs")}):
        files = {p.stem: p for p in folder.glob("*.rs") if p.stem != "mod"}
        files.update({d.name: d / "mod.rs" for d in folder.iterdir() if (d / "mod.rs").exists()})
        edges = {}
        for name, path in files.items():
            text = path.read_text().split("#[cfg(test)]")[0]
            used = set()
            for group, single in SIBLING.findall(text):
                names = [n.strip().split("::")[0] for n in group.split(",")] if group else [single]
                used |= {n for n in names if n in files and n != name}
            edges[name] = used
        for start in edges:
            stack = [(start, [start])]
            while stack:
                node, trail = stack.pop()
                for nxt in edges[node]:
                    if nxt == start:
                        found.append(f"{folder}: " + " -> ".join(trail + [start]))
                    elif nxt not in trail and nxt > start:
                        stack.append((nxt, trail + [nxt]))
    return found


def main() -> int:
    src = pathlib.Path(__file__).resolve().parent.parent / "src"
    bad = [f"{c}: files in one folder use each other" for c in sibling_cycles(src)]
    for path in sorted(src.rglob("*.rs")):
        here = module_of(path, src)
        if here not in RANK:
            bad.append(f"{path}: module '{here}' has no layer in .ci/imports.py")
            continue
        in_tests = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            # Unit tests at the bottom of a file may reach anywhere.
            if line.startswith("#[cfg(test)]"):
                in_tests = True
            if in_tests or line.lstrip().startswith("//"):
                continue
            for used in USE.findall(line):
                if used == here:
                    continue
                if used not in RANK:
                    bad.append(f"{path}:{number}: crate::{used} has no layer in .ci/imports.py")
                elif RANK[used] >= RANK[here]:
                    bad.append(
                        f"{path}:{number}: {here} uses {used}, which is not below it: data flows one way"
                    )
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

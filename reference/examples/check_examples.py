#!/usr/bin/env python3
"""Checks that the C++ examples of README.md are these programs, and that they print what they say.

    check_examples.py --readme README.md --bin-dir DIR EXAMPLE.cpp...

Each example marks the lines the README shows between `// [readme]` and
`// [/readme]` (several regions are joined by a blank line, dedented). Every
```cpp block of the README must be the marked text of exactly one example, and
every example must appear in the README. Each example's binary (DIR/NAME, NAME
the file's stem) must exit 0 and print exactly the `// expected output:` lines
at the end of its file. Exit 0 when all holds, 1 otherwise, naming the file
and line of each mismatch.
"""
import argparse
import os
import re
import subprocess
import sys
import textwrap


def readme_blocks(path):
    """(line, text) of each ```cpp block."""
    blocks, current, start = [], None, 0
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if current is None and line.strip() == "```cpp":
                current, start = [], number + 1
            elif current is not None and line.strip() == "```":
                blocks.append((start, "".join(current).rstrip("\n")))
                current = None
            elif current is not None:
                current.append(line)
    return blocks


def example_parts(path):
    """The README text the example marks, and its expected output lines."""
    regions, current, expected, in_expected = [], None, [], False
    with open(path) as f:
        for line in f:
            stripped = line.strip()
            if stripped == "// [readme]":
                current = []
            elif stripped == "// [/readme]":
                regions.append(textwrap.dedent("".join(current)).rstrip("\n"))
                current = None
            elif current is not None:
                current.append(line)
            elif stripped == "// expected output:":
                in_expected = True
            elif in_expected:
                expected.append(re.sub(r"^// ?", "", line.rstrip("\n")))
    return "\n\n".join(regions), expected


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("examples", nargs="+")
    args = ap.parse_args()

    problems = []
    blocks = readme_blocks(args.readme)
    shown = {}
    for path in args.examples:
        text, expected = example_parts(path)
        if not text:
            problems.append("%s: no // [readme] region" % path)
            continue
        matches = [line for line, block in blocks if block == text]
        if not matches:
            problems.append("%s: its // [readme] text is not a ```cpp block of %s (edit both together)" % (
                path, args.readme))
        for line in matches:
            shown[line] = path
        binary = os.path.join(args.bin_dir, os.path.splitext(os.path.basename(path))[0])
        try:
            run = subprocess.run([binary], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            problems.append("%s: cannot run %s: %s" % (path, binary, e))
            continue
        got = run.stdout.splitlines()
        if run.returncode != 0 or got != expected:
            problems.append("%s: %s exited %d and printed %r; expected %r%s" % (
                path, binary, run.returncode, got, expected,
                ("; stderr: " + run.stderr[-500:]) if run.stderr else ""))
    for line, _ in blocks:
        if line not in shown:
            problems.append("%s:%d: this ```cpp block is no example's // [readme] text: make it one "
                            "(reference/examples/) so that it is compiled and run" % (args.readme, line))
    for p in problems:
        print(p)
    print("%d examples, %d README blocks: %s" % (len(args.examples), len(blocks),
                                                 "ok" if not problems else "%d problems" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Shrinks a step program (JSON) that makes the `scenario` fuzz target fail,
to one that still fails and from which no step, action, field or list item can
be removed. For turning a finding into a readable spec case or unit test.

  FUZZ_PRINT_PROGRAM=1 build/fuzz/fuzz/fuzz_scenario CRASH_FILE 2>&1 | grep '^program:'   # the program
  fuzz/shrink_program.py build/fuzz/fuzz/fuzz_scenario PROGRAM.json [--match TEXT]

--match: only count a failure whose output contains TEXT (default: the first
'SUMMARY:' or 'scenario fuzzer:' line of the original failure), so that the
shrinking does not slide to another bug.
"""
import argparse
import json
import subprocess
import sys
import tempfile


def failure_text(fuzzer: str, program) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        f.write(json.dumps(program, separators=(",", ":")))
        f.flush()
        r = subprocess.run([fuzzer, "-runs=1", f.name], capture_output=True, text=True, timeout=60)
    if r.returncode == 0:
        return ""
    for line in r.stderr.splitlines():
        if line.startswith("SUMMARY:") or line.startswith("scenario fuzzer:"):
            return line
    return r.stderr[-300:] or "failed"


def candidates(v):
    """Smaller variants of v: one element/field removed, or one child shrunk."""
    if isinstance(v, list):
        for i in range(len(v)):
            yield v[:i] + v[i + 1:]
        for i, item in enumerate(v):
            for smaller in candidates(item):
                yield v[:i] + [smaller] + v[i + 1:]
    elif isinstance(v, dict):
        for k in list(v):
            if k != "op":
                yield {kk: vv for kk, vv in v.items() if kk != k}
        for k, item in v.items():
            for smaller in candidates(item):
                yield {**v, k: smaller}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("fuzzer")
    ap.add_argument("program")
    ap.add_argument("--match")
    args = ap.parse_args()
    with open(args.program) as f:
        text = f.read().strip()
    program = json.loads(text[len("program:"):] if text.startswith("program:") else text)
    first = failure_text(args.fuzzer, program)
    if not first:
        sys.exit("the program does not fail")
    match = args.match or first.split(" in ")[0].split(" at ")[0]
    print(f"shrinking while failing with: {match}", file=sys.stderr)
    progress = True
    while progress:
        progress = False
        for c in candidates(program):
            if isinstance(c, list) and c and match in failure_text(args.fuzzer, c):
                program = c
                progress = True
                break
    print(json.dumps(program))


if __name__ == "__main__":
    main()

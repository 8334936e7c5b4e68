"""Prints `NAME  lines: X%  functions: Y%  branches: Z%` for lcov tracefiles.

    coverage_summary.py [--check] NAME=FILE.info ...

--check: exits 1 if a folder is below its target (TARGETS)."""
import sys

# folder -> {measure: minimum percent}
TARGETS = {"reference/": {"lines": 95.0, "branches": 85.0}, "conformance/": {"lines": 90.0}}


def totals(path):
    t = {"LF": 0, "LH": 0, "FNF": 0, "FNH": 0, "BRF": 0, "BRH": 0}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition(":")
            if key in t:
                t[key] += int(value)
    return t


def percent(hit, found):
    return 100.0 * hit / found if found else 100.0


def main(argv):
    check = "--check" in argv
    below = []
    for arg in (a for a in argv if a != "--check"):
        name, _, path = arg.partition("=")
        t = totals(path)
        got = {"lines": percent(t["LH"], t["LF"]), "functions": percent(t["FNH"], t["FNF"]),
               "branches": percent(t["BRH"], t["BRF"])}
        print("%-14s lines: %.1f%%  functions: %.1f%%  branches: %.1f%%"
              % (name, got["lines"], got["functions"], got["branches"]))
        for measure, minimum in TARGETS.get(name, {}).items():
            if got[measure] < minimum:
                below.append("%s %s %.1f%% < %.0f%%" % (name, measure, got[measure], minimum))
    if below:
        print("below target: " + "; ".join(below))
    return 1 if check and below else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

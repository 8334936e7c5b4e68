"""Runs the spec and the property tests against each mutant of the reference.

Called by tools/mutants after it has built the `mutants` preset. A mutant is
caught by the spec when `conform` reports failing cases, and by the
properties when `property-tests` reports failing properties. A control run
without any mutant must pass both, or the table would mean nothing.
"""
import argparse
import os
import re
import subprocess
import sys
import time

MUTANT_DEF = re.compile(r'^DEFERRED_MUTANT_DEF\("([^"]+)",\s*"([^"]*)"\)\s*$')
SPEC_SUMMARY = re.compile(r"(\d+) cases in \d+ rules: (\d+) passed, (\d+) failed, \d+ skipped, (\d+) errored")
PROPS_SUMMARY = re.compile(r"^(\d+) properties, (\d+) scenarios, (\d+) failed", re.M)


def read_mutants(path):
    mutants = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            m = MUTANT_DEF.match(line)
            if not m:
                sys.exit(f"{path}:{number}: not a DEFERRED_MUTANT_DEF(\"name\", \"what\") line")
            mutants.append((m.group(1), m.group(2)))
    return mutants


def run(command, mutant, timeout):
    env = dict(os.environ)
    env.pop("DEFERRED_MUTANT", None)
    if mutant:
        env["DEFERRED_MUTANT"] = mutant
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    return done.returncode, done.stdout + done.stderr


def spec_failures(build, spec, mutant):
    code, out = run([f"{build}/conformance/conform", "--impl", "reference", "--spec", spec], mutant, 300)
    m = SPEC_SUMMARY.search(out or "")
    if code is None or m is None or code not in (0, 1):
        return None, (out or "")[-2000:]
    return int(m.group(3)) + int(m.group(4)), None


def property_failures(build, mutant, scenarios, seed):
    code, out = run([f"{build}/property-tests/property-tests", "--impl", "reference",
                     "--scenarios", str(scenarios), "--seed", str(seed)], mutant, 600)
    m = PROPS_SUMMARY.search(out or "")
    if code is None or m is None:
        return None, (out or "")[-2000:]
    return int(m.group(3)), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--def", dest="definitions", required=True)
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()

    mutants = read_mutants(args.definitions)
    unknown = set(args.only) - {name for name, _ in mutants}
    if unknown:
        sys.exit(f"tools/mutants: no such mutant: {', '.join(sorted(unknown))}")
    if args.only:
        mutants = [m for m in mutants if m[0] in args.only]

    # Control: the unmutated build must pass both, or nothing below means anything.
    spec, why = spec_failures(args.build, args.spec, None)
    props, why2 = property_failures(args.build, None, args.scenarios, args.seed)
    if spec != 0 or props != 0:
        print(f"tools/mutants: the control run (no mutant) does not pass: spec {spec}, properties {props}")
        print(why or why2 or "")
        return 2

    started = time.monotonic()
    rows = []
    for name, what in mutants:
        spec, spec_error = spec_failures(args.build, args.spec, name)
        props, props_error = property_failures(args.build, name, args.scenarios, args.seed)
        rows.append((name, what, spec, props, spec_error or props_error))

    width = max(len(r[0]) for r in rows)
    print(f"{'mutant':<{width}}  {'spec cases failing':>18}  {'properties failing':>18}  caught")
    escaped = 0
    for name, what, spec, props, error in rows:
        caught = bool(spec) and bool(props)
        escaped += not caught
        cell = lambda v: "error" if v is None else str(v)
        print(f"{name:<{width}}  {cell(spec):>18}  {cell(props):>18}  {'yes' if caught else 'NO'}")
        if not caught:
            print(f"{'':<{width}}  ({what})")
            if error:
                print(error)
    print(f"{len(rows)} mutants, {len(rows) - escaped} caught by both the spec and the properties, "
          f"{escaped} escaped ({args.scenarios} scenarios per property, seed {args.seed}, "
          f"{time.monotonic() - started:.0f} s)")
    return 0 if escaped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

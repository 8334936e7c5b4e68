#!/usr/bin/python3
"""Runs the whole spec through two implementations and fails unless every case
has the same status in both (e.g. the reference in process and behind the
driver protocol).   same_results.py CONFORM IMPL_A IMPL_B"""
import json
import subprocess
import sys


def results(conform, impl):
    run = subprocess.run([conform, "--impl", impl, "--format", "json"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit("conform --impl %s exited %d:\n%s" % (impl, run.returncode, run.stderr))
    report = json.loads(run.stdout)
    return {r["id"]: (r["status"], r.get("diff")) for r in report["results"]}


def main(conform, a, b):
    ra, rb = results(conform, a), results(conform, b)
    differ = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
    for k in differ:
        print("%s: %s %s, %s %s" % (k, a, ra.get(k), b, rb.get(k)))
    print("%d cases compared, %d differ" % (len(ra), len(differ)))
    return 1 if differ or not ra else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

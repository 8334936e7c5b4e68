#!/usr/bin/env python3
"""Checks the shape of a bench results file (the smoke test; no timing check).

    check_report.py RESULTS.json [workloads.json]

{"workloads": {NAME: {IMPL: ns_per_step or null}}, "machine": {...}, ...}: every
workload of workloads.json appears (as WORKLOAD/N), every value is a positive
number or null with a reason in details, every target has a status.
"""
import json
import math
import sys


def fail(msg):
    print("check_report: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 2:
        fail("usage: check_report.py RESULTS.json [workloads.json]")
    with open(sys.argv[1]) as f:
        data = json.load(f)  # invalid JSON fails here
    for key in ("workloads", "machine", "details", "targets", "noise"):
        if key not in data:
            fail("missing key %r" % key)
    if not isinstance(data["workloads"], dict) or not data["workloads"]:
        fail("'workloads' is empty")
    timed = 0
    for name, row in data["workloads"].items():
        if "/" not in name:
            fail("workload name without n: %r" % name)
        for impl, v in row.items():
            if v is None:
                if not data["details"][name][impl].get("na"):
                    fail("%s %s: null without a reason" % (name, impl))
                continue
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                fail("%s %s: not a positive number: %r" % (name, impl, v))
            timed += 1
    if timed == 0:
        fail("no cell was timed")
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            spec = json.load(f)
        names = {n.split("/")[0] for n in data["workloads"]}
        missing = [w["name"] for w in spec["workloads"] if w["name"] not in names]
        if missing:
            fail("workloads missing from the results: %s" % ", ".join(missing))
        impls = set().union(*(row.keys() for row in data["workloads"].values()))
        missing = [i["name"] for i in spec["implementations"] if i["name"] not in impls]
        if missing:
            fail("implementations missing from the results: %s" % ", ".join(missing))
    for t in data["targets"]:
        if t.get("status") not in ("met", "not met", "n/a"):
            fail("target without a status: %r" % t)
    print("check_report: %s: %d rows, %d timed cells, %d targets" % (
        sys.argv[1], len(data["workloads"]), timed, len(data["targets"])))


if __name__ == "__main__":
    main()

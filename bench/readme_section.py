#!/usr/bin/env python3
"""Prints the "Benchmarks" section of the top-level README.md from a results file.

    bench/readme_section.py [bench/results/results.json] > /tmp/section.md

(then replace the section at the end of README.md with it). The condensed
table is bench/results/summary.md, written by bench.py.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results", "results.json")
    with open(path) as f:
        d = json.load(f)
    with open(os.path.join(os.path.dirname(path), "summary.md")) as f:
        summary = f.read()
    m, noise = d["machine"], d["noise"]
    rows = []
    for t in d["targets"]:
        if "(context" in t["target"]:
            continue
        status = {"met": "met", "not met": "**not met**", "n/a": "n/a"}[t["status"]]
        rows.append("| %s | %s | %s |" % (t["target"], status, t["figures"]))
    print("""## Benchmarks

Chain throughput of the reference against a no-Deferred baseline, Boost.Thread's
`boost::future`, Cap'n Proto's KJ promises, `std::future`, and, out of process
through the drivers' `bench` request, Twisted 22.4, Node's `Promise`, bluebird
and q: ns per step (median of the repeats) and the ratio to the baseline of the
same run. The workloads are defined once in
[`bench/workloads.json`](bench/workloads.json); how each is measured, and why a
cell is n/a, in [`bench/README.md`](bench/README.md).

```sh
tools/bench --quick      # < 2 minutes; writes bench/results/: report.md, results.json, chain.svg, workloads.svg
tools/bench              # the full run: 7 repeats, longer timing, fewer caps
```

Latest, from `{command}` ({date}; {cpu}, {cores} cores, a shared and noisy
machine: spread max/min over a cell's repeats median {med:.2f}x, 90th
percentile {p90:.2f}x; the reference's `chain/1000` measured again at the end:
{drift}). The full table, with every workload at n = 10 to 1,000,000,
allocations per step, steps per second and every n/a with its reason:
[`bench/results/report.md`](bench/results/report.md).

{summary}
`chain` uses Twisted's pass-through (a handler taking and returning any
result, a `deferred::Value`); `chain-typed` is the same chain with
an `int` handler capturing two pointers, `[lo, hi](int v) {{ ... }}`, that
clamps the value (the other C++ implementations are typed in both).
n/a: not expressible in that implementation (no `.then` in `std::future`, no
cancellation or coroutines in `boost::future`, no coroutines in Debian's KJ
0.9, ...), capped (`boost::future` overflows the stack above n = 10,000 and
KJ's chains above a few thousand; Twisted and q are slow), or not implemented
by that driver: the full report gives each n/a its reason.

![ns per step against chain length, log-log](bench/results/chain.svg)

Every workload: [`bench/results/workloads.svg`](bench/results/workloads.svg).

Targets, evaluated on the same run (never asserted in tests):

| target | status | figures |
|---|---|---|
{targets}""".format(command=d["command"], date=m["date"], cpu=m["cpu"], cores=m["cores"],
                     med=noise["median_spread"], p90=noise["p90_spread"], drift=noise["drift"],
                     summary=summary, targets="\n".join(rows)))


if __name__ == "__main__":
    main()

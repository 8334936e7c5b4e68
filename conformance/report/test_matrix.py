#!/usr/bin/python3
"""Test of the conformance matrix page (conformance/report/matrix.py) in headless Chromium.

  test_matrix.py --chromium /usr/bin/chromium [--conform PATH] [--keep DIR]

1. Renders the page from tests/fixture.json (three implementations, one that
   could not start, a known failure, an error); with --conform also runs
   `matrix.py run` for the reference and reference-driver (fast, in-tree).
2. Loads each page as file://.../index.html#selftest with `chromium --headless
   --dump-dom`: the page's own script then reads back the counts it shows,
   applies every feature filter, every status filter (any implementation and
   each one), expands a rule and opens a failing cell, and writes what it saw
   into <pre id="selftest-result">.
3. Compares that with what this script computes from the combined JSON,
   independently of the page's code. Exit status 0 when everything matches.
Python 3 standard library only.
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STATUSES = ["pass", "fail", "skip", "error"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def raw(result):
    s = result["status"]
    if s == "expected-fail":
        return "fail" if "diff" in result else "error"
    return "pass" if s == "unexpected-pass" else s


def expected_view(data):
    """What the page must show, computed from the combined JSON."""
    impls = [i for i in data["implementations"] if i.get("status") == "ok"]
    res = {i["name"]: {r["id"]: raw(r) for r in i["report"]["results"]} for i in impls}
    counts = {n: {s: sum(1 for v in m.values() if v == s) for s in STATUSES} for n, m in res.items()}

    def case_feats(rule, c):
        return c.get("features") or rule["features"]

    features = sorted({f for r in data["rules"] for f in set(r["features"]) | {f for c in r["cases"] for f in case_feats(r, c)}})
    fcounts = {}
    for n, m in res.items():
        fcounts[n] = {}
        for f in features:
            c = dict.fromkeys(STATUSES, 0)
            for r in data["rules"]:
                for k in r["cases"]:
                    cid = r["id"] + "/" + k["id"]
                    if cid in m and f in case_feats(r, k):
                        c[m[cid]] += 1
            fcounts[n][f] = "/".join(str(c[s]) for s in STATUSES)

    def agg(name, rule):
        seen = [res[name][rule["id"] + "/" + c["id"]] for c in rule["cases"] if rule["id"] + "/" + c["id"] in res[name]]
        for s in ("fail", "error", "pass", "skip"):
            if s in seen:
                return s
        return "none"

    aggs = {r["id"]: {i["name"]: (agg(i["name"], r) if i.get("status") == "ok" else "none")
                      for i in data["implementations"]} for r in data["rules"]}

    def visible(feature, status, impl):
        n = 0
        for r in data["rules"]:
            feats = set(r["features"]) | {f for c in r["cases"] for f in case_feats(r, c)}
            if feature and feature not in feats:
                continue
            if status and (aggs[r["id"]][impl] != status if impl else status not in aggs[r["id"]].values()):
                continue
            n += 1
        return n

    return counts, fcounts, features, visible


def selftest(chromium, page):
    profile = tempfile.mkdtemp(prefix="matrix-chromium-")
    try:
        run = subprocess.run([chromium, *CHROMIUM_FLAGS, "--user-data-dir=" + profile, "--dump-dom",
                              "file://" + os.path.abspath(page) + "#selftest"],
                             capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    m = re.search(r'<pre id="selftest-result">SELFTEST (.*?)</pre>', run.stdout, re.S)
    if not m:
        raise AssertionError("no self-test result in the DOM (chromium exit %d)\n%s" % (run.returncode, run.stderr[-2000:]))
    return json.loads(html.unescape(m.group(1))), run.stdout


def check(chromium, data, page):
    problems = []
    got, dom = selftest(chromium, page)
    if not got.get("ok"):
        return ["the page's self-test raised: %s" % got.get("error")]
    counts, fcounts, features, visible = expected_view(data)
    if got["counts"] != counts:
        problems.append("implementation counts: page %s, JSON %s" % (got["counts"], counts))
    if got["feature_counts"] != fcounts:
        problems.append("feature counts: page %s, JSON %s" % (got["feature_counts"], fcounts))
    if got["rows"] != len(data["rules"]):
        problems.append("rule rows: page %d, JSON %d" % (got["rows"], len(data["rules"])))
    wanted = {(f, s, i) for f in [""] + features for s in [""] for i in [""]}
    wanted |= {("", s, "") for s in STATUSES}
    wanted |= {("", s, i["name"]) for i in data["implementations"] for s in STATUSES}
    seen = set()
    for f in got["filters"]:
        key = (f["feature"], f["status"], f["impl"])
        seen.add(key)
        exp = visible(*key)
        if f["visible"] != exp:
            problems.append("filter feature=%r status=%r impl=%r: page shows %d rules, expected %d" % (key + (f["visible"], exp)))
    if wanted - seen:
        problems.append("filters not exercised by the page: %s" % sorted(wanted - seen))
    if data["rules"]:
        first = data["rules"][0]
        if got["expand"] != {"rule": first["id"], "shown": len(first["cases"]), "hidden_after": 0}:
            problems.append("expanding %s: %s" % (first["id"], got["expand"]))
    any_fail = any(visible("", "fail", i["name"]) for i in data["implementations"] if i.get("status") == "ok")
    if any_fail and not (got["detail"] and got["detail"]["shown"] and got["detail"]["has_diff"]):
        problems.append("a failing cell did not open the detail pane with a diff: %s" % got["detail"])
    for i in data["implementations"]:
        if i.get("status") != "ok" and "could not start" not in dom:
            problems.append("implementation %s could not start, but the page does not say so" % i["name"])
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--conform", help="also build a page from real runs of reference and reference-driver")
    ap.add_argument("--keep", help="write the pages under this folder instead of a temporary one")
    a = ap.parse_args()
    if not os.access(a.chromium, os.X_OK):
        print("test_matrix: %s not found (Debian package chromium; tools/setup installs it)" % a.chromium)
        return 1
    matrix = os.path.join(HERE, "matrix.py")
    work = a.keep or tempfile.mkdtemp(prefix="matrix-test-")
    failures = 0
    try:
        pages = [("fixture", ["render", "--input", os.path.join(HERE, "tests", "fixture.json")])]
        if a.conform:
            pages.append(("reference", ["run", "--conform", a.conform, "--impl", "reference", "--impl", "reference-driver"]))
        for name, args in pages:
            out = os.path.join(work, name)
            t0 = time.monotonic()
            subprocess.run([sys.executable, matrix, *args, "--output", out], check=True, capture_output=True, text=True)
            data = json.load(open(os.path.join(out, "matrix.json")))
            problems = check(a.chromium, data, os.path.join(out, "index.html"))
            print("%s: %s (%d rules, %d implementations, %.1f s)" % (
                name, "ok" if not problems else "FAILED", len(data["rules"]), len(data["implementations"]),
                time.monotonic() - t0))
            for p in problems:
                print("  " + p)
            failures += bool(problems)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

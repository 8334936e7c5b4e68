#!/usr/bin/python3
"""The conformance matrix: every registered implementation against the spec,
as one static HTML page (inline CSS and JS, no server, no external assets) and
the combined JSON it is built from.

  matrix.py run --conform PATH [--impl NAME]... [--timeout S] [--jobs N] --output DIR
      runs `conform --list-impls`, then `conform --impl NAME --format json` for
      every implementation (or only the --impl ones), and writes
      DIR/matrix.json and DIR/index.html
  matrix.py render --input matrix.json --output DIR
      writes DIR/index.html from a combined JSON (e.g. a fixture)

The page shows raw pass/fail/skip/error: expectations files
(conformance/drivers/NAME/expected-failures.yaml) are only read to mark known
failures. Open DIR/index.html#selftest to have the page check itself (see
conformance/report/test_matrix.py). Python 3 standard library only.
"""
import argparse
import concurrent.futures
import datetime
import html
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FORMAT = 1


# --- the spec's rule metadata (a reader for the subset of YAML the rule files use) ---------

def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return json.loads(text) if text[0] == '"' else text[1:-1].replace("''", "'")
    return text


def _flow_list(text):
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return []
    return [_scalar(x) for x in text[1:-1].split(",") if x.strip()]


def _flow_map(text):
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return {}
    out = {}
    for part in re.split(r",\s*(?=[A-Za-z_$]+:)", text[1:-1]):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip()] = _scalar(v)
    return out


def read_rules(spec_dir):
    """Rules of spec_dir/rules/*.yaml in spec order: id, area, title, statement,
    source (list of {doc, section} or {api}), features, level, file."""
    rules = []
    rules_dir = os.path.join(spec_dir, "rules")
    for name in sorted(os.listdir(rules_dir)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(rules_dir, name)
        lines = open(path, encoding="utf-8").read().split("\n")
        area, rule, i = "", None, 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"^area:\s*(.*)$", line)
            if m:
                area = _scalar(m.group(1))
            m = re.match(r"^  - id:\s*(.*)$", line)
            if m:
                rule = {"id": _scalar(m.group(1)), "area": area, "title": "", "statement": "", "source": [],
                        "features": [], "level": "", "file": "spec/rules/" + name}
                rules.append(rule)
            elif rule is not None:
                m = re.match(r"^    (title|level|features|statement|source|note):\s*(.*)$", line)
                if m:
                    key, rest = m.group(1), m.group(2).strip()
                    if key in ("statement", "note") and rest in (">", "|", ">-", "|-"):
                        body = []
                        while i + 1 < len(lines) and (lines[i + 1].startswith("      ") or not lines[i + 1].strip()):
                            i += 1
                            body.append(lines[i].strip())
                        text = " ".join(x for x in body if x) if rest.startswith(">") else "\n".join(body).strip()
                        rule[key] = text
                    elif key in ("statement", "note", "title", "level"):
                        rule[key] = _scalar(rest)
                    elif key == "features":
                        rule["features"] = _flow_list(rest)
                    elif key == "source":
                        while i + 1 < len(lines) and re.match(r"^      - ", lines[i + 1]):
                            i += 1
                            item = lines[i].strip()[2:].strip()
                            rule["source"].append(_flow_map(item) if item.startswith("{") else {"text": item})
            i += 1
    return rules


def source_text(sources):
    parts = []
    for s in sources:
        if "api" in s:
            parts.append("API " + s["api"])
        elif "doc" in s:
            parts.append(s["doc"] + (": " + s["section"] if s.get("section") else ""))
        else:
            parts.append(s.get("text", ""))
    return "; ".join(parts)


# --- expectations files (only to mark known failures) ------------------------------------

def read_expectations(path):
    """{id: reason} from an expectations file (ids are case ids or rule ids)."""
    out, last = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\s*-\s+id:\s*(\S+)\s*$", line) or re.match(r"^\s*-\s+([A-Za-z0-9_.\-/*]+)\s*$", line)
        if m:
            last = _scalar(m.group(1))
            out[last] = ""
            continue
        m = re.match(r"^\s+reason:\s*(.*)$", line)
        if m and last is not None:
            out[last] = _scalar(m.group(1))
    return out


def driver_folders(drivers_dir):
    """{implementation name: its driver folder} from drivers_dir/*/impl.json."""
    out = {}
    if not os.path.isdir(drivers_dir):
        return out
    for d in sorted(os.listdir(drivers_dir)):
        f = os.path.join(drivers_dir, d, "impl.json")
        try:
            out[json.load(open(f, encoding="utf-8"))["name"]] = os.path.join(drivers_dir, d)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return out


# --- running conform ----------------------------------------------------------------------

def list_impls(conform):
    run = subprocess.run([conform, "--list-impls"], capture_output=True, text=True, timeout=60)
    impls = []
    for line in run.stdout.splitlines():
        if "\t" in line:
            name, desc = line.split("\t", 1)
            impls.append((name, desc))
    return impls


def run_impl(conform, name, desc, timeout):
    entry = {"name": name, "description": desc}
    if desc.startswith("unavailable"):
        entry.update(status="unavailable", error=desc)
        return entry
    cmd = [conform, "--impl", name, "--format", "json", "--timeout", str(timeout)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        entry.update(status="unavailable", error="conform did not finish within an hour")
        return entry
    if run.returncode in (0, 1):
        try:
            entry.update(status="ok", report=json.loads(run.stdout))
            return entry
        except ValueError as e:
            entry.update(status="unavailable", error="conform printed no JSON report: %s" % e)
            return entry
    entry.update(status="unavailable",
                 error="could not start (conform exited %d): %s" % (run.returncode, run.stderr.strip()[-2000:]))
    return entry


def list_cases(conform, spec_dir):
    run = subprocess.run([conform, "--list", "--spec", spec_dir], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit("matrix: conform --list failed:\n" + run.stderr)
    cases = {}
    for line in run.stdout.splitlines():
        cid, _, feats = line.partition("\t")
        cases[cid] = [f for f in feats.split(",") if f]
    return cases


def build(conform, spec_dir, drivers_dir, only, timeout, jobs):
    impls = list_impls(conform)
    if only:
        known = dict(impls)
        impls = [(n, known.get(n, "unknown implementation")) for n in only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        entries = list(pool.map(lambda nd: run_impl(conform, nd[0], nd[1], timeout), impls))
    folders = driver_folders(drivers_dir)
    for e in entries:
        folder = folders.get(e["name"])
        xf = os.path.join(folder, "expected-failures.yaml") if folder else None
        if xf and os.path.isfile(xf):
            e["expectations_file"] = os.path.relpath(xf, TOP)
            e["expected_failures"] = read_expectations(xf)
    case_features = list_cases(conform, spec_dir)
    rules = read_rules(spec_dir)
    by_rule = {}
    for cid, feats in case_features.items():
        by_rule.setdefault(cid.split("/")[0], []).append({"id": cid.split("/", 1)[1], "features": feats})
    for r in rules:
        r["cases"] = by_rule.get(r["id"], [])
        r["source_text"] = source_text(r["source"])
    spec_version = next((e["report"]["spec_version"] for e in entries if e.get("report")), "")
    return {"format": FORMAT, "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "spec_version": spec_version, "rules": rules, "implementations": entries}


# --- the page -----------------------------------------------------------------------------

def render(data, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    template = open(os.path.join(HERE, "matrix.html"), encoding="utf-8").read()
    payload = json.dumps(data, sort_keys=True).replace("</", "<\\/")
    page = template.replace("/*@DATA@*/null", payload).replace("@TITLE@", html.escape(
        "Deferred conformance matrix (spec %s)" % data.get("spec_version", "")))
    with open(os.path.join(out_dir, "index.html"), "w", encoding="utf-8") as f:
        f.write(page)
    with open(os.path.join(out_dir, "matrix.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    return os.path.join(out_dir, "index.html")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run conform for every implementation, then render")
    r.add_argument("--conform", required=True)
    r.add_argument("--spec", default=os.path.join(TOP, "spec"))
    r.add_argument("--drivers", default=os.path.join(TOP, "conformance", "drivers"))
    r.add_argument("--impl", action="append", default=[], help="only these implementations (repeatable)")
    r.add_argument("--timeout", type=float, default=30)
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--output", required=True)
    g = sub.add_parser("render", help="render a combined JSON")
    g.add_argument("--input", required=True)
    g.add_argument("--output", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "run":
        data = build(os.path.abspath(a.conform), os.path.abspath(a.spec), os.path.abspath(a.drivers), a.impl,
                     a.timeout, a.jobs)
    else:
        data = json.load(open(a.input, encoding="utf-8"))
    page = render(data, a.output)
    for e in data["implementations"]:
        s = (e.get("report") or {}).get("summary")
        print("%-18s %s" % (e["name"], "%d passed, %d failed, %d skipped, %d errored" % (
            s["passed"], s["failed"] + s.get("expected_failures", 0), s["skipped"], s["errored"]) if s
            else "could not start: " + e.get("error", "")[:200].replace("\n", " ")), file=sys.stderr)
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())

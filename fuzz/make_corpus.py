#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, generated from spec/ (run by the fuzz
build; nothing big is committed):

  OUT/spec_loader/      every rule file, and every rule alone in a rule file
  OUT/driver_response/  the responses a conforming driver sends: the start
                        response of each registered driver, and for each case
                        {"seq": 1, "outcome": "observed", "observations": EXPECT}
                        (plus skipped/errored ones)
  OUT/scenario/         each case's program as one line of JSON
"""
import argparse
import hashlib
import json
import pathlib
import shutil

import yaml


def write(folder: pathlib.Path, data: str) -> None:
    raw = data.encode("utf-8")
    (folder / hashlib.sha1(raw).hexdigest()).write_bytes(raw)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True, type=pathlib.Path)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()

    dirs = {name: args.out / name for name in ("spec_loader", "driver_response", "scenario")}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)

    features = sorted(yaml.safe_load((args.spec / "features.yaml").read_text())["features"])
    start = {"protocol": 1, "implementation": {"name": "fuzz", "version": "1.0", "language": "c++"},
             "features": features}
    write(dirs["driver_response"], json.dumps(start))
    for impl_json in sorted((args.spec.parent / "conformance" / "drivers").glob("*/impl.json")):
        impl = json.loads(impl_json.read_text())
        write(dirs["driver_response"], json.dumps(
            {"protocol": 1, "implementation": {"name": impl.get("name", "x"), "version": "1", "language": "x",
                                               "homepage": "https://example.org"},
             "features": features[: len(impl.get("name", "")) % len(features) + 1]}))
    write(dirs["driver_response"], json.dumps({"error": "only protocol version 1 is supported"}))
    write(dirs["driver_response"], json.dumps({"seq": 1, "outcome": "skipped", "reason": "no backlog"}))
    write(dirs["driver_response"], json.dumps({"seq": 1, "outcome": "errored", "message": "unknown step op: x"}))

    for path in sorted((args.spec / "rules").glob("*.yaml")):
        text = path.read_text()
        write(dirs["spec_loader"], text)
        doc = yaml.safe_load(text)
        for rule in doc.get("rules", []):
            one = {"format": doc["format"], "area": doc["area"], "title": doc["title"], "rules": [rule]}
            write(dirs["spec_loader"], yaml.safe_dump(one, sort_keys=False, allow_unicode=True,
                                                      default_flow_style=None, width=120))
            for case in rule.get("cases", []):
                write(dirs["scenario"], json.dumps(case["program"], separators=(",", ":")))
                obs = {"trace": case["expect"].get("trace", []), "final": case["expect"].get("final", {})}
                write(dirs["driver_response"],
                      json.dumps({"seq": 1, "outcome": "observed", "observations": obs}, separators=(",", ":")))
    for name, d in dirs.items():
        print(f"make_corpus: {name}: {sum(1 for _ in d.iterdir())} seeds")


if __name__ == "__main__":
    main()

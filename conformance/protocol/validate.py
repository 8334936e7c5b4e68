#!/usr/bin/python3
"""Validate spec rule files and protocol messages against the JSON Schemas.

    validate.py spec DIR|FILE...      every rule file (DIR/*.yaml, or DIR/rules/*.yaml
                                      when DIR is the spec folder) against
                                      spec/schema/spec-file.schema.json
    validate.py message KIND FILE     every JSON line of FILE ('-': stdin) against
                                      conformance/protocol/KIND.schema.json
                                      (KIND: start-request, start-response, run-request,
                                      run-response, stop-request, bench-request,
                                      bench-response, program, observations)
    validate.py schemas               check the schemas themselves (metaschema)

Prints FILE: PATH: MESSAGE for each violation and exits 1 if there is any.
Besides the schema, `spec` also checks what a schema cannot: duplicate YAML
keys, features named in spec/features.yaml, citations in spec/sources.yaml,
rule ids unique across files and case ids unique within a rule.

Needs python3-jsonschema and python3-yaml (Debian): run with /usr/bin/python3.
"""

import glob
import json
import os
import sys
import warnings

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover
    sys.exit("validate.py: %s; install python3-jsonschema and python3-yaml and run with /usr/bin/python3" % e)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SPEC_SCHEMA = os.path.join(TOP, "spec", "schema", "spec-file.schema.json")
SCHEMA_FILES = sorted(glob.glob(os.path.join(HERE, "*.schema.json"))) + [SPEC_SCHEMA]


# --- YAML as JSON: YAML 1.1 would read the key `on:` as True, `yes`/`no` as
# booleans and dates as datetimes; the step language needs plain JSON data.
class JsonishLoader(yaml.SafeLoader):
    pass


JsonishLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers
         if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
import re  # noqa: E402

JsonishLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class DuplicateKey(Exception):
    pass


def _mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    out = {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=deep)
        if key in out:
            raise DuplicateKey("line %d: duplicate key %r" % (knode.start_mark.line + 1, key))
        out[key] = loader.construct_object(vnode, deep=deep)
    return out


JsonishLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=JsonishLoader)


# --- schemas ---------------------------------------------------------------------

def file_uri(path):
    return "file://" + os.path.abspath(path)


def load_store():
    store = {}
    for p in SCHEMA_FILES:
        with open(p, encoding="utf-8") as f:
            store[file_uri(p)] = json.load(f)
    return store


def validator_for(path, store):
    schema = store[file_uri(path)]
    cls = jsonschema.Draft202012Validator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(base_uri=file_uri(path), referrer=schema, store=store)
        return cls(schema, resolver=resolver)


def fmt_path(parts):
    out = ""
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else ("." if out else "") + str(p)
    return out or "(top)"


def leaf_errors(err):
    """The most specific errors under an anyOf/oneOf/if-then failure."""
    if not err.context:
        return [err]
    best = jsonschema.exceptions.best_match(err.context)
    return leaf_errors(best) if best is not None else [err]


def schema_errors(validator, instance):
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in leaf_errors(err):
            msg = leaf.message
            if len(msg) > 300:
                msg = msg[:300] + "..."
            out.append((fmt_path(leaf.absolute_path), msg))
    return out


# --- cross-references the schema cannot express ----------------------------------------

def load_registry():
    spec = os.path.join(TOP, "spec")
    feats, sources = None, None
    try:
        feats = set((load_yaml(os.path.join(spec, "features.yaml")) or {}).get("features", {}))
    except OSError:
        pass
    except (yaml.YAMLError, DuplicateKey) as e:
        print("validate.py: warning: spec/features.yaml: %s; feature names not checked" % e, file=sys.stderr)
    path = os.path.join(spec, "sources.yaml")
    try:
        docs = (load_yaml(path) or {}).get("documents", {})
        sources = {d: {s.get("name") for s in (v.get("sections") or [])} for d, v in docs.items()}
    except OSError:
        pass
    except (yaml.YAMLError, DuplicateKey) as e:
        # e.g. an unquoted flow-mapping value with a comma: {name: A, then B}
        # reads as {name: A, "then B": null}. Check documents only.
        print("validate.py: warning: spec/sources.yaml: %s (quote section names containing "
              "commas); sections not checked" % e, file=sys.stderr)
        with open(path, encoding="utf-8") as f:
            docs = (yaml.safe_load(f) or {}).get("documents", {})
        sources = {d: None for d in docs}
    return feats, sources


def xref_errors(doc, feats, sources, rule_ids, path):
    out = []
    if not isinstance(doc, dict):
        return out
    for i, rule in enumerate(doc.get("rules") or []):
        if not isinstance(rule, dict):
            continue
        rp = "rules[%d]" % i
        rid = rule.get("id")
        if isinstance(rid, str):
            if rid in rule_ids:
                out.append((rp + ".id", "rule id %r already used in %s" % (rid, rule_ids[rid])))
            else:
                rule_ids[rid] = path
        if feats is not None:
            for j, f in enumerate(rule.get("features") or []):
                if f not in feats:
                    out.append(("%s.features[%d]" % (rp, j), "unknown feature %r (spec/features.yaml)" % (f,)))
        if sources is not None:
            for j, c in enumerate(rule.get("source") or []):
                if isinstance(c, dict) and "doc" in c:
                    if c["doc"] not in sources:
                        out.append(("%s.source[%d].doc" % (rp, j), "unknown document %r (spec/sources.yaml)" % (c["doc"],)))
                    elif sources[c["doc"]] is not None and c.get("section") not in sources[c["doc"]]:
                        out.append(("%s.source[%d].section" % (rp, j),
                                    "document %r has no section %r" % (c["doc"], c.get("section"))))
        seen = set()
        for j, case in enumerate(rule.get("cases") or []):
            if not isinstance(case, dict):
                continue
            cid = case.get("id")
            if cid in seen:
                out.append(("%s.cases[%d].id" % (rp, j), "case id %r repeated in rule %r" % (cid, rid)))
            seen.add(cid)
            if feats is not None:
                for k, f in enumerate(case.get("features") or []):
                    if f not in feats:
                        out.append(("%s.cases[%d].features[%d]" % (rp, j, k), "unknown feature %r" % (f,)))
    return out


# --- commands ------------------------------------------------------------------------------

def cmd_spec(targets):
    files = []
    for t in targets:
        if os.path.isdir(t):
            d = os.path.join(t, "rules") if os.path.isdir(os.path.join(t, "rules")) else t
            files += sorted(glob.glob(os.path.join(d, "*.yaml")) + glob.glob(os.path.join(d, "*.yml")))
        else:
            files.append(t)
    if not files:
        print("validate.py: no rule files found in %s" % ", ".join(targets))
        return 1
    store = load_store()
    v = validator_for(SPEC_SCHEMA, store)
    feats, sources = load_registry()
    rule_ids = {}
    bad = 0
    for path in files:
        try:
            doc = load_yaml(path)
        except (yaml.YAMLError, DuplicateKey, OSError) as e:
            print("%s: (parse): %s" % (path, str(e).replace("\n", " ")))
            bad += 1
            continue
        errs = schema_errors(v, doc) + xref_errors(doc, feats, sources, rule_ids, path)
        for p, m in errs:
            print("%s: %s: %s" % (path, p, m))
        bad += len(errs)
    print("validate.py: %d file(s), %d violation(s)" % (len(files), bad), file=sys.stderr)
    return 1 if bad else 0


def cmd_message(kind, path):
    schema_path = os.path.join(HERE, kind + ".schema.json")
    if not os.path.exists(schema_path):
        kinds = sorted(os.path.basename(p)[:-len(".schema.json")] for p in SCHEMA_FILES[:-1])
        print("validate.py: unknown message kind %r (one of: %s)" % (kind, ", ".join(kinds)))
        return 2
    store = load_store()
    v = validator_for(schema_path, store)
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    bad = n = 0
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            try:
                msg = json.loads(line)
            except ValueError as e:
                print("%s:%d: (parse): %s" % (path, lineno, e))
                bad += 1
                continue
            for p, m in schema_errors(v, msg):
                print("%s:%d: %s: %s" % (path, lineno, p, m))
                bad += 1
    print("validate.py: %d message(s), %d violation(s)" % (n, bad), file=sys.stderr)
    return 1 if bad else 0


def cmd_schemas():
    bad = 0
    for p in SCHEMA_FILES:
        with open(p, encoding="utf-8") as f:
            s = json.load(f)
        try:
            jsonschema.Draft202012Validator.check_schema(s)
        except jsonschema.exceptions.SchemaError as e:
            print("%s: %s" % (p, e.message))
            bad += 1
    # every $ref must resolve
    store = load_store()
    for p in SCHEMA_FILES:
        v = validator_for(p, store)
        for ref in _refs(store[file_uri(p)]):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    v.resolver.resolve(ref)
            except Exception as e:  # noqa: BLE001
                print("%s: $ref %s does not resolve: %s" % (p, ref, e))
                bad += 1
    return 1 if bad else 0


def _refs(node):
    if isinstance(node, dict):
        for k, x in node.items():
            if k == "$ref" and isinstance(x, str):
                yield x
            else:
                yield from _refs(x)
    elif isinstance(node, list):
        for x in node:
            yield from _refs(x)


def main(argv):
    if len(argv) >= 2 and argv[0] == "spec":
        return cmd_spec(argv[1:])
    if len(argv) == 3 and argv[0] == "message":
        return cmd_message(argv[1], argv[2])
    if argv == ["schemas"]:
        return cmd_schemas()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

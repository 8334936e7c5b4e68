#!/usr/bin/env python3
"""Annotates the expectations file written by
    conform --impl kj --write-expectations FILE
with a comment and a human reason per rule (followed by the runner's first
difference). Usage: annotate-expectations.py FILE (rewrites FILE). Needs python3-yaml.
A failing rule not listed in R gets "not yet explained" and a warning: explain it here."""
import json
import sys
import yaml

path = sys.argv[1]
entries = (yaml.safe_load(open(path)) or {}).get("expected-failures") or []
first = {e["id"]: e.get("reason", "") for e in entries if isinstance(e, dict)}
ids = [e["id"] if isinstance(e, dict) else e for e in entries]

NO_ACE = ("A kj::PromiseFulfiller ignores fulfill()/reject() once the promise is resolved (isWaiting() is false): "
          "KJ has no AlreadyCalledError, so nothing is raised")
ADOPT = ("A promise returned from a continuation is adopted, not consumed: the adapter gives the chain a branch of the "
         "inner promise's fork, and the inner promise keeps its own result. Twisted moves the inner Deferred's result "
         "into the outer chain and leaves the inner one with None, so the inner name's final state (and what handlers "
         "added to it later receive) differ")
R = {
    "callback.raise-switches-to-errback": NO_ACE + " inside the handler, which goes on normally.",
    "chaining.chain-deferred": NO_ACE + ": fulfilling an already resolved target does not fail the source's chain.",
    "chaining.nested": ADOPT + ".",
    "chaining.pending-deferred-fails-later": ADOPT + ".",
    "chaining.returned-fired-deferred-failure": ADOPT + "; the adopted exception also stays on the inner promise.",
    "chaining.returned-fired-deferred-value": ADOPT + ".",
    "chaining.waits-for-pending-deferred": ADOPT + ". " + NO_ACE + " while the outer chain waits.",
    "firing.second-fire-raises": NO_ACE + "; the later call is dropped and the handlers see the first result.",
    "firing.refire-from-own-handler": NO_ACE + " inside the handler.",
    "firing.callback-with-failure": NO_ACE + " (a callback with a Failure is a reject(), which does resolve the promise).",
    "intro.explainer-chain-outcomes": ADOPT + ".",
    "maybe-deferred.returns-deferred": ("kj::evalNow() returns a new promise that follows the one the function returned, "
                                        "not that promise itself: handlers added through both names run on two chains, "
                                        "and the returned promise keeps its result. " + ADOPT + "."),
    "maybe-deferred.is-valid-user": ("kj::evalNow() follows the returned promise instead of returning it; " + ADOPT + "."),
}

out = ["# conform expectations for kj (conformance/examples/kj, see its README.md).",
       "# Generated with: conform --impl kj --write-expectations FILE, then",
       "# conformance/examples/kj/annotate-expectations.py FILE (a reason per rule).",
       "# Every entry is a real difference between KJ promises and Deferred semantics",
       "# (continuations run on KJ's event loop, drained after every step; cases needing",
       "# features the adapter does not declare are skipped, not listed here).",
       "expected-failures:"]
last_rule = None
for cid in ids:
    rule = cid.split("/")[0]
    reason = R.get(rule)
    if reason is None:
        print("annotate-expectations: no reason for rule %s" % rule, file=sys.stderr)
        reason = "not yet explained."
    if rule != last_rule:
        out.append("  # %s: %s" % (rule, reason))
        last_rule = rule
    text = reason + (" First difference: " + first[cid] if first.get(cid) else "")
    out.append("  - id: %s" % cid)
    out.append("    reason: " + json.dumps(text))
open(path, "w").write("\n".join(out) + "\n")

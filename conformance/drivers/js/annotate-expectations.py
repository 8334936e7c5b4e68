#!/usr/bin/env python3
"""Annotates an expectations file written by `conform --impl IMPL --write-expectations FILE`
for a JS promise library: a comment and a human reason per rule, followed by the
runner's first difference. Usage: annotate-expectations.py IMPL FILE (rewrites FILE).
Needs python3-yaml."""
import sys, yaml, json, collections
impl, path = sys.argv[1], sys.argv[2]
entries = (yaml.safe_load(open(path)) or {}).get('expected-failures') or []
ids = [e['id'] if isinstance(e, dict) else e for e in entries]
first = {e['id']: e.get('reason', '') for e in entries if isinstance(e, dict)}

NO_ACE = "A second resolve()/reject() on a settled promise is silently ignored: promises have no AlreadyCalledError, so nothing is raised"
ADOPT = ("A promise that a handler returns (or that is awaited) keeps its own result when the chain adopts it: "
         "Twisted moves the inner Deferred's result into the outer chain and leaves the inner one with None, "
         "so the inner name's final state, and what handlers added to it later receive, differ")
RECOVER = ("An errback (onRejected) that returns the reason, or returns an Error object, fulfils the next promise with that "
           "Error as a value: only throwing stays on the rejection path (Twisted: returning a Failure stays on the errback path)")
LATER = "Handlers run later, from the job queue, not nested inside resolve()/then(): the order of the trace differs"
# Rules whose failing cases all need `synchronous` (spec case features) appear only
# when the driver is run with --assume synchronous (exploration); their reasons say so.
ASSUMED = " (Only seen with --assume synchronous: the spec marks these cases as needing `synchronous`.)"
R = {
  "callback.handler-fires-other-deferred": LATER + " (the other promise's handlers run after the firing handler, and its marks, returned)." + ASSUMED,
  "callback.raise-switches-to-errback": NO_ACE + " inside the handler, which goes on normally.",
  "callback.skipped-on-error": "Returning an Error object from a handler fulfils the next promise with it (a value); only a throw rejects, so the next onFulfilled runs.",
  "chaining.chain-deferred": NO_ACE + ": resolving an already fired target does not fail the source's chain.",
  "chaining.nested": ADOPT + ". " + RECOVER + ".",
  "chaining.pending-deferred-fails-later": ADOPT + ".",
  "chaining.returned-fired-deferred-failure": ADOPT + "; the adopted rejection also stays on the inner promise.",
  "chaining.returned-fired-deferred-value": ADOPT + ".",
  "chaining.waits-for-pending-deferred": ADOPT + ". " + NO_ACE + " while the outer chain waits. (With --assume synchronous also: handlers added to the inner promise run before the outer chain resumes, both being its followers in order.)",
  "coroutine.await-failure-raises": "await does not consume the awaited promise's result: Twisted leaves the awaited Deferred with None, a promise keeps its rejection.",
  "coroutine.await-pending-suspends": "await does not consume the awaited promise's result: Twisted leaves the awaited Deferred with None, so its final state and later handlers' argument differ.",
  "coroutine.compose": "await (and a handler returning the coroutine's promise) does not consume the awaited promise's result: the inner names keep their values instead of None.",
  "coroutine.raise-fails-deferred": "await does not consume the awaited promise's result: the awaited name keeps its value instead of None.",
  "errback.chain-of-errbacks": RECOVER + ".",
  "errback.return-failure-stays-on-error-path": RECOVER + ".",
  "firing.callback-with-failure": "resolve(error) fulfils the promise with the Error object as a value (Twisted: callback(Failure) takes the errback path); and " + NO_ACE + ".",
  "firing.refire-from-own-handler": NO_ACE + " inside the handler.",
  "firing.second-fire-raises": NO_ACE + ".",
  "gather.consume-errors": "Promise.all has no consumeErrors: a failed member keeps its rejection; the rejection is the member's own reason, not a FirstError(index, sub); and the member's own handlers run before all()'s." + ASSUMED,
  "gather.first-error": "Promise.all rejects with the failing member's own reason, not a FirstError(index, sub), and never consumes the member's failure (the member keeps its rejection instead of None).",
  "intro.explainer-chain-outcomes": ADOPT + ".",
  "intro.explainer-examples": RECOVER + ".",
  "intro.get-users": "await does not consume the awaited promise's result: Twisted leaves the awaited Deferred with None, a promise keeps its value.",
  "maybe-deferred.is-valid-user": ADOPT + ".",
  "maybe-deferred.returns-deferred": ADOPT + "; and the returned promise's own later handlers run before the maybeDeferred chain's (both follow it).",
  "maybe-deferred.returns-failure": "A function that returns an Error object (without throwing) makes a fulfilled promise with that Error as value: the callback runs, not the errback.",
}
groups = collections.OrderedDict()
for i in ids:
    groups.setdefault(i.split('/')[0], []).append(i)
out = ["# conform expectations for %s (conformance/drivers/js, see its README.md)." % impl,
       "# Generated with: conform --impl %s --write-expectations FILE, then" % impl,
       "# conformance/drivers/js/annotate-expectations.py %s FILE (a reason per rule)." % impl,
       "# Every entry is a real difference between promise semantics and Deferred semantics",
       "# (the driver drains the job queue after every step; cases needing 'synchronous'",
       "# are skipped, not listed here).",
       "expected-failures:"]
missing = []
for rule, cases in groups.items():
    reason = R.get(rule)
    if reason is None:
        missing.append(rule); reason = "promise semantics differ (not yet explained)"
    out.append("  # %s: %s" % (rule, reason))
    for c in cases:
        out.append("  - id: %s" % c)
        r = reason + (" First difference: " + first[c] if first.get(c) else "")
        out.append("    reason: %s" % json.dumps(r))
if not ids: out[-1] = "expected-failures: []"
open(path, "w").write("\n".join(out) + "\n")
if missing: print("no reason for:", missing, file=sys.stderr)
print(impl, len(ids), "entries")

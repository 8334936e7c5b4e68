#!/usr/bin/env python3
"""A minimal conformance driver: a starting point for your own library.

This file is a complete, runnable driver for the protocol described in
conformance/PROTOCOL.md. It runs spec programs (the step language of
spec/README.md) against a tiny toy Deferred written below, so that you can see
every moving part working before you swap in your own library.

What it implements:
  * the handshake (`start`), the run loop (`run`), `stop`, and `bench`
    (always answered "skipped");
  * the ops `new`, `addCallback`, `addErrback`, `callback`, `errback`;
  * handler bodies: return, returnArgument, raiseArgument, raise,
    returnDeferred, trap, and nested steps;
  * the trace (`call`, `raised`) and the final states of Deferreds.
Every other op is answered `errored` ("unsupported op"), which the runner
reports as an error for that case; declare only features whose cases you can
run (see FEATURES below) so that the runner skips the rest.

To adapt it to your library:
  1. Replace the toy `Deferred` / `Failure` with your library's types (or a thin
     wrapper calling into it: a subprocess, FFI, a test binary...).
  2. Keep `encode`/`decode` in sync with spec/README.md "Values".
  3. Add ops to OPS as you support them, and add the matching features.
Python 3 standard library only.
"""

import json
import sys

PROTOCOL_VERSION = 1

# Features from spec/features.yaml that this driver can run. "core" also
# covers addBoth/addCallbacks/succeed/fail, which this skeleton does not
# implement: those core cases come back `errored` until you add them.
FEATURES = ["core", "synchronous", "final-state"]


# =============================================================================
# 1. The library under test: a toy Deferred (replace with yours).
# =============================================================================

class AlreadyCalledError(Exception):
    pass


class Failure:
    """Wraps an exception travelling down the errback path."""

    def __init__(self, exc):
        self.value = exc


class Deferred:
    def __init__(self):
        self.callbacks = []     # list of (callback, errback) pairs (functions or None)
        self.called = False
        self.result = None
        self.paused = 0         # used here only while waiting on another Deferred
        self.waiting_on = None  # the Deferred a handler returned, while unfired
        self.running = False    # True while a handler runs: no re-entrant runs

    def addCallbacks(self, cb, eb):
        self.callbacks.append((cb, eb))
        if self.called:
            self._run()         # synchronous: handlers run as soon as added to a fired Deferred
        return self

    def addCallback(self, cb):
        return self.addCallbacks(cb, None)

    def addErrback(self, eb):
        return self.addCallbacks(None, eb)

    def callback(self, value):
        if self.called:
            raise AlreadyCalledError()
        self.called, self.result = True, value
        self._run()

    def errback(self, exc):
        self.callback(exc if isinstance(exc, Failure) else Failure(exc))

    def _continue(self, result):
        """Called when the Deferred we were waiting on fires."""
        self.waiting_on = None
        self.paused -= 1
        self.result = result
        self._run()

    def _run(self):
        # A handler that adds handlers to its own Deferred must not run them
        # nested: the loop below picks them up, in order, after the queued ones.
        if self.paused or self.running:
            return
        while self.callbacks:
            cb, eb = self.callbacks.pop(0)
            fn = eb if isinstance(self.result, Failure) else cb
            if fn is None:
                continue        # no handler for this path: the result passes through
            self.running = True
            try:
                self.result = fn(self.result)
            except Exception as e:  # a raising handler switches to the errback path
                self.result = Failure(e)
            finally:
                self.running = False
            if isinstance(self.result, Deferred):
                inner = self.result
                if inner.called and not inner.paused:
                    self.result, inner.result = inner.result, None  # take its result
                else:
                    # wait for it: pause ourselves, resume when it fires
                    self.paused += 1
                    self.waiting_on = inner
                    inner.addCallbacks(self._handback, self._handback)
                    return

    def _handback(self, result):
        self._continue(result)
        return None             # the inner Deferred is left with None, like Twisted


# =============================================================================
# 2. The error taxonomy (spec/errors.yaml) mapped to native exception types.
# =============================================================================

class TestError(Exception):
    def __init__(self, message=""):
        Exception.__init__(self, message)
        self.message = message


class TestErrorA(TestError):
    pass


class TestErrorA1(TestErrorA):
    pass


class TestErrorB(TestError):
    pass


ERRORS = {c.__name__: c for c in (TestError, TestErrorA, TestErrorA1, TestErrorB, AlreadyCalledError)}


class Unsupported(BaseException):
    """The program uses something this driver cannot run: the case is errored.
    A BaseException, so that the toy's `except Exception` around handlers does
    not turn it into a Failure: it must reach the run loop."""


def make_error(typ, message):
    if typ not in ERRORS:
        raise Unsupported("unsupported error type %r" % (typ,))
    if issubclass(ERRORS[typ], TestError):
        return ERRORS[typ](message or "")
    return ERRORS[typ]()  # library errors carry no message


# =============================================================================
# 3. Values: JSON <-> native (spec/README.md "Values").
# =============================================================================

def encode(case, v):
    """Native value -> JSON observation."""
    if isinstance(v, Failure):
        v = v.value
    if isinstance(v, TestError):
        return {"$failure": type(v).__name__, "message": v.message}
    if isinstance(v, AlreadyCalledError):
        return {"$failure": "AlreadyCalledError"}   # library errors: type only
    if isinstance(v, Exception):
        return {"$failure": "Other:" + type(v).__name__, "message": str(v)}
    if isinstance(v, Deferred):   # reverse lookup of the name, by identity
        return {"$deferred": next((k for k, o in case.ns.items() if o is v), None)}
    if isinstance(v, (list, tuple)):
        return [encode(case, x) for x in v]
    if isinstance(v, dict):
        return {k: encode(case, x) for k, x in v.items()}
    return v                      # null, booleans, numbers, strings


def decode(case, v):
    """JSON program value -> native."""
    if isinstance(v, list):
        return [decode(case, x) for x in v]
    if isinstance(v, dict):
        if "$failure" in v:
            return Failure(make_error(v["$failure"], v.get("message")))
        if "$deferred" in v:
            return case.deferred(v["$deferred"])
        return {k: decode(case, x) for k, x in v.items()}
    return v


# =============================================================================
# 4. One case: the namespace, the trace, the ops.
# =============================================================================

class Case:
    def __init__(self):
        self.ns = {}      # name -> object, one namespace per case
        self.trace = []   # observations, in order

    def deferred(self, name):
        obj = self.ns.get(name)
        if not isinstance(obj, Deferred):
            raise Unsupported("unknown Deferred %r" % (name,))
        return obj

    # --- handlers ------------------------------------------------------------
    def handler(self, label, body):
        """Build the native function for a handler. It records the call, then
        runs the body. Deferreds are looked up by name when it runs."""
        def fn(result):
            self.trace.append({"call": label, "arg": encode(self, result)})
            return self.run_body(body, result)
        return fn

    def run_body(self, body, arg):
        for action in body:
            if action == "returnArgument":
                return arg
            if action == "raiseArgument":
                raise arg.value
            if isinstance(action, dict) and "op" in action:
                self.step(action)          # nested step: its error ends the handler
                continue
            if isinstance(action, dict) and "return" in action:
                return decode(self, action["return"])
            if isinstance(action, dict) and "raise" in action:
                raise make_error(action["raise"], action.get("message"))
            if isinstance(action, dict) and "returnDeferred" in action:
                return self.deferred(action["returnDeferred"])
            if isinstance(action, dict) and "trap" in action:
                types = tuple(ERRORS[t] for t in action["trap"] if t in ERRORS)
                if not isinstance(arg.value, types):
                    raise arg.value        # not trapped: the same failure goes on
                continue
            raise Unsupported("unsupported action %s" % json.dumps(action))
        return None                        # no return: None

    # --- ops: one function per op -----------------------------------------------
    def op_new(self, s):
        if "canceller" in s:
            raise Unsupported("cancellers are not supported")
        self.ns[s["name"]] = Deferred()

    def op_addCallback(self, s):
        self.deferred(s["target"]).addCallback(self.handler(s["label"], s.get("do", [])))

    def op_addErrback(self, s):
        self.deferred(s["target"]).addErrback(self.handler(s["label"], s.get("do", [])))

    def op_callback(self, s):
        self.deferred(s["target"]).callback(decode(self, s["value"]))

    def op_errback(self, s):
        self.deferred(s["target"]).errback(make_error(s["error"], s.get("message")))

    OPS = {"new": op_new, "addCallback": op_addCallback, "addErrback": op_addErrback,
           "callback": op_callback, "errback": op_errback}

    def step(self, s):
        op = s.get("op") if isinstance(s, dict) else None
        if op not in self.OPS:
            raise Unsupported("unsupported op %r" % (op,))
        if "args" in s:
            raise Unsupported("extra args are not supported")
        self.OPS[op](self, s)

    # --- the program ------------------------------------------------------------
    def final_state(self, d):
        if not d.called:
            return {"state": "pending"}
        if d.waiting_on is not None:
            return {"state": "waiting", "inner": encode(self, d.waiting_on)["$deferred"]}
        return {"state": "fired", "result": encode(self, d.result)}

    def run(self, program):
        for i, s in enumerate(program):
            try:
                self.step(s)
            except Unsupported as e:
                raise Unsupported("step %d: %s" % (i, e))
            except KeyError as e:
                raise Unsupported("step %d: missing field %s" % (i, e))
            except Exception as e:   # the library raised: record it and go on
                self.trace.append({"raised": encode(self, e), "step": i})
        final = {n: self.final_state(o) for n, o in self.ns.items()}
        return {"trace": self.trace, "final": final}


# =============================================================================
# 5. The protocol loop: one JSON request per line in, one response line out.
# =============================================================================

def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()                    # required: the runner waits for the line


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
        except (ValueError, AttributeError) as e:
            send({"error": "malformed request: %s" % e})
            continue
        if cmd == "start":
            if req.get("protocol") != PROTOCOL_VERSION:
                send({"error": "unsupported protocol version %r" % req.get("protocol")})
                sys.exit(1)
            send({"protocol": PROTOCOL_VERSION,
                  "implementation": {"name": "skeleton", "version": "0.0.1",
                                     "language": "python"},
                  "features": FEATURES})
        elif cmd == "run":
            try:
                obs = Case().run(req["program"])
                send({"seq": req["seq"], "outcome": "observed", "observations": obs})
            except Unsupported as e:
                send({"seq": req["seq"], "outcome": "errored", "message": str(e)})
            except Exception as e:        # a bug in the driver: errored, never a crash
                send({"seq": req["seq"], "outcome": "errored",
                      "message": "driver error: %s: %s" % (type(e).__name__, e)})
        elif cmd == "bench":
            send({"seq": req.get("seq"), "outcome": "skipped", "reason": "no benchmarks"})
        elif cmd == "stop":
            sys.exit(0)
        else:
            send({"seq": req.get("seq"), "outcome": "errored", "message": "unknown cmd %r" % cmd})


if __name__ == "__main__":
    main()

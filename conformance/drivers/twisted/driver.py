#!/usr/bin/python3
"""Ground-truth conformance driver: runs spec programs against Twisted itself.

Speaks the JSON-lines protocol of conformance/PROTOCOL.md on stdin/stdout and
interprets the step language of spec/README.md with Twisted's own objects
(Deferred, DeferredList, gatherResults, maybeDeferred, addTimeout on a
task.Clock, DeferredLock, DeferredSemaphore, DeferredQueue, ensureDeferred over
a real ``async def`` coroutine, ...).

Run with Debian's interpreter, which has python3-twisted:
    /usr/bin/python3 driver.py

Standard library + Twisted only.
"""

import gc
import json
import os
import sys
import time
import traceback

# --- stdout is the protocol channel -----------------------------------------
# Keep a private handle on the real stdout (fd 1) for protocol lines, then point
# fd 1 and sys.stdout at stderr so that nothing else (Twisted's logging, stray
# prints, C code) can ever write into the protocol stream.
_PROTO_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
try:
    os.dup2(2, 1)
except OSError:  # pragma: no cover - stderr closed; keep going
    pass
sys.stdout = sys.stderr

PROTOCOL_VERSION = 1

FEATURES = [
    "core", "synchronous", "final-state", "extra-args", "pause", "cancel",
    "chain-deferred", "deferred-list", "gather", "maybe-deferred", "timeout",
    "lock", "semaphore", "queue", "coroutine", "unhandled-error",
]  # every feature of spec/features.yaml except self-chain-error

try:
    import twisted
    from twisted.internet import defer
    from twisted.internet import error as twisted_error
    from twisted.internet.defer import (
        AlreadyCalledError, CancelledError, Deferred, DeferredList,
        DeferredLock, DeferredQueue, DeferredSemaphore, FirstError,
        QueueOverflow, QueueUnderflow, ensureDeferred, gatherResults,
        maybeDeferred)
    from twisted.internet.task import Clock
    from twisted.logger import formatEvent, globalLogBeginner
    from twisted.python.failure import Failure
    _IMPORT_ERROR = None
except Exception as _e:  # noqa: BLE001 - any import problem is reported
    _IMPORT_ERROR = "%s: %s" % (type(_e).__name__, _e)


def send(obj):
    _PROTO_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _PROTO_OUT.flush()


def log(msg):
    sys.stderr.write("twisted-driver: %s\n" % msg)
    sys.stderr.flush()


# --- the error taxonomy (spec/errors.yaml) ----------------------------------

class TestError(Exception):
    """A test error: carries the message the program gave it."""

    def __init__(self, message=""):
        Exception.__init__(self, message)
        self.message = message


class TestErrorA(TestError):
    pass


class TestErrorA1(TestErrorA):
    pass


class TestErrorB(TestError):
    pass


TEST_ERRORS = {c.__name__: c for c in (TestError, TestErrorA, TestErrorA1, TestErrorB)}

if _IMPORT_ERROR is None:
    # Every native class that a taxonomy name stands for. TimeoutError: 22.4's
    # addTimeout raises twisted.internet.defer.TimeoutError (defer.py, the
    # module's own class shadows the builtin in _cancelledToTimedOutError);
    # the others are mapped too in case another path raises them.
    LIBRARY_ERRORS = {
        "CancelledError": (CancelledError,),
        "AlreadyCalledError": (AlreadyCalledError,),
        "FirstError": (FirstError,),
        "TimeoutError": (defer.TimeoutError, twisted_error.TimeoutError, TimeoutError),
        "QueueOverflow": (QueueOverflow,),
        "QueueUnderflow": (QueueUnderflow,),
    }
    # for encoding: the first matching entry wins (subclasses before bases)
    ENCODE_ORDER = [
        ("FirstError", (FirstError,)),
        ("CancelledError", (CancelledError,)),
        ("AlreadyCalledError", (AlreadyCalledError,)),
        ("TimeoutError", (defer.TimeoutError, twisted_error.TimeoutError, TimeoutError)),
        ("QueueOverflow", (QueueOverflow,)),
        ("QueueUnderflow", (QueueUnderflow,)),
    ]


class DriverError(Exception):
    """The driver cannot run the program (unknown op, malformed step, bad name)."""


class StepRaised(Exception):
    """A library call made by a step raised ``exc`` (distinguishes library
    errors from bugs in the driver's own code)."""

    def __init__(self, exc):
        Exception.__init__(self, exc)
        self.exc = exc


NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def valid_name(n):
    return isinstance(n, str) and n != "" and not n[0].isdigit() and set(n) <= NAME_CHARS


# --- step field tables: (required, optional) ---------------------------------
HANDLER_FIELDS = ({"label"}, {"do", "args"})
STEP_FIELDS = {
    "new": ({"name"}, {"canceller"}),
    "succeed": ({"name", "value"}, set()),
    "fail": ({"name", "error"}, {"message"}),
    "maybeDeferred": ({"name", "label"}, {"do", "args"}),
    "DeferredList": ({"name", "members"},
                     {"fireOnOneCallback", "fireOnOneErrback", "consumeErrors"}),
    "gatherResults": ({"name", "members"}, {"consumeErrors"}),
    "coroutine": ({"name", "body"}, set()),
    "addCallback": ({"target", "label"}, {"do", "args"}),
    "addErrback": ({"target", "label"}, {"do", "args"}),
    "addBoth": ({"target", "label"}, {"do", "args"}),
    "addCallbacks": ({"target", "callback"}, {"errback"}),
    "chainDeferred": ({"target", "to"}, set()),
    "addTimeout": ({"target", "seconds"}, {"onTimeoutCancel"}),
    "callback": ({"target", "value"}, set()),
    "errback": ({"target", "error"}, {"message"}),
    "cancel": ({"target"}, set()),
    "pause": ({"target"}, set()),
    "unpause": ({"target"}, set()),
    "advance": ({"seconds"}, set()),
    "drop": ({"target"}, set()),
    "mark": ({"label"}, set()),
    "DeferredLock": ({"name"}, set()),
    "DeferredSemaphore": ({"name", "tokens"}, set()),
    "DeferredQueue": ({"name"}, {"size", "backlog"}),
    "acquire": ({"target", "name"}, set()),
    "release": ({"target"}, set()),
    "run": ({"target", "name", "label"}, {"do", "args"}),
    "put": ({"target", "value"}, set()),
    "get": ({"target", "name"}, set()),
    "await": ({"target", "label"}, {"catch"}),  # coroutine bodies only
}
ARG_ACTIONS = ("returnArgument", "raiseArgument")


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# --- unhandled-error observation ---------------------------------------------
CURRENT = None  # the Case being run, or None


def _log_observer(event):
    """Twisted log observer. DebugInfo.__del__ (defer.py) logs
    log.critical("Unhandled error in Deferred:") then
    log.failure(format, failResult, debugInfo=...): the second event carries
    the Failure and the debugInfo key."""
    try:
        if (event.get("log_namespace") == "twisted.internet.defer"
                and "log_failure" in event and "debugInfo" in event):
            case = CURRENT
            if case is not None and case.recording:
                case.trace.append({"unhandled": case.encode(event["log_failure"])})
            return
        if (event.get("log_namespace") == "twisted.internet.defer"
                and str(event.get("log_format", "")).startswith("Unhandled error in Deferred")):
            return  # the header line of the report above
        text = formatEvent(event)
        if "log_failure" in event:
            try:
                text += "\n" + event["log_failure"].getTraceback()
            except Exception:  # noqa: BLE001
                pass
        log("log: " + text)
    except Exception:  # noqa: BLE001 - never let the observer raise
        log("observer failed: " + traceback.format_exc())


def install_logging():
    # discardBuffer: drop anything buffered before us; redirectStandardIO=False:
    # leave sys.stdout/stderr alone (stdout was already routed to stderr).
    globalLogBeginner.beginLoggingTo([_log_observer], discardBuffer=True,
                                     redirectStandardIO=False)


# --- one case -----------------------------------------------------------------

class Case:
    def __init__(self):
        self.ns = {}
        self.trace = []
        self.clock = Clock()
        self.recording = True
        self.driver_error = None

    # errors ----------------------------------------------------------------
    def derr(self, where, msg):
        full = "%s: %s" % (where, msg)
        if self.driver_error is None:
            self.driver_error = full
        return DriverError(full)

    # names -----------------------------------------------------------------
    def lookup(self, name, where, kinds=None, what="object"):
        if not isinstance(name, str) or name not in self.ns:
            raise self.derr(where, "unknown name %r" % (name,))
        obj = self.ns[name]
        if kinds is not None and not isinstance(obj, kinds):
            raise self.derr(where, "%r is not a %s" % (name, what))
        return obj

    def deferred(self, name, where):
        return self.lookup(name, where, Deferred, "Deferred")

    def check_new_name(self, name, where):
        if not valid_name(name):
            raise self.derr(where, "invalid name %r" % (name,))
        if name in self.ns:
            raise self.derr(where, "name %r already exists" % (name,))

    def name_of(self, obj):
        for k, v in self.ns.items():
            if v is obj:
                return k
        return None

    # values ------------------------------------------------------------------
    def make_error(self, typ, message, where, extra=None):
        if message is None:
            message = ""
        if not isinstance(message, str):
            raise self.derr(where, "message must be a string")
        if typ in TEST_ERRORS:
            return TEST_ERRORS[typ](message)
        if typ == "FirstError":
            extra = extra or {}
            if "index" not in extra or "sub" not in extra:
                raise self.derr(where, "FirstError needs index and sub")
            sub = self.decode(extra["sub"], where)
            if not isinstance(sub, Failure):
                raise self.derr(where, "FirstError sub must be a $failure")
            return FirstError(sub, extra["index"])
        if typ in LIBRARY_ERRORS:
            return LIBRARY_ERRORS[typ][0]()
        raise self.derr(where, "unknown error type %r" % (typ,))

    def error_classes(self, types, where):
        if not isinstance(types, list) or not types:
            raise self.derr(where, "expected a non-empty list of error types")
        out = []
        for t in types:
            if t in TEST_ERRORS:
                out.append(TEST_ERRORS[t])
            elif t in LIBRARY_ERRORS:
                out.extend(LIBRARY_ERRORS[t])
            else:
                raise self.derr(where, "unknown error type %r" % (t,))
        return out

    def decode(self, v, where):
        if isinstance(v, list):
            return [self.decode(x, where) for x in v]
        if isinstance(v, dict):
            if "$failure" in v:
                extra = {k: x for k, x in v.items() if k not in ("$failure", "message")}
                return Failure(self.make_error(v["$failure"], v.get("message"), where, extra))
            if "$deferred" in v:
                return self.deferred(v["$deferred"], where)
            for k in v:
                if k.startswith("$"):
                    raise self.derr(where, "reserved key %r in a value" % (k,))
            return {k: self.decode(x, where) for k, x in v.items()}
        return v

    def encode_exc(self, e):
        if isinstance(e, Failure):
            return self.encode_exc(e.value)
        if isinstance(e, TestError):
            return {"$failure": type(e).__name__, "message": e.message}
        for name, classes in ENCODE_ORDER:
            if isinstance(e, classes):
                if name == "FirstError":
                    return {"$failure": "FirstError", "index": e.index,
                            "sub": self.encode(e.subFailure)}
                return {"$failure": name}
        return {"$failure": "Other:" + type(e).__name__, "message": str(e)}

    def encode(self, v, depth=0):
        if depth > 50:
            return {"$object": None, "type": "Other:too-deep"}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                return {"$object": None, "type": "Other:float:" + repr(v)}
            return v
        if isinstance(v, Failure):
            return self.encode_exc(v.value)
        if isinstance(v, BaseException):
            return self.encode_exc(v)
        if isinstance(v, Deferred):
            return {"$deferred": self.name_of(v)}
        if isinstance(v, (list, tuple)):
            return [self.encode(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {str(k): self.encode(x, depth + 1) for k, x in v.items()}
        if isinstance(v, (DeferredLock, DeferredSemaphore, DeferredQueue)):
            # not in spec/README.md's value table: a named non-Deferred object
            # (what acquire() fires with). Proposed encoding, see README note.
            return {"$object": self.name_of(v)}
        return {"$object": None, "type": "Other:" + type(v).__name__}

    # library calls -------------------------------------------------------------
    @staticmethod
    def lib(fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except (DriverError, StepRaised):
            raise
        except BaseException as e:  # noqa: BLE001 - the library's own error
            raise StepRaised(e) from None

    # handlers ------------------------------------------------------------------
    def handler_spec(self, h, where):
        if not isinstance(h, dict):
            raise self.derr(where, "a handler must be an object {label, do, args}")
        self.check_fields(h, HANDLER_FIELDS, where, "handler")
        return h

    def check_fields(self, obj, fields, where, what):
        req, opt = fields
        missing = req - set(obj)
        if missing:
            raise self.derr(where, "%s is missing %s" % (what, ", ".join(sorted(missing))))
        extra = set(obj) - req - opt - {"op"}
        if extra:
            raise self.derr(where, "%s has unknown field(s) %s" % (what, ", ".join(sorted(extra))))

    def args_of(self, h, where):
        args = h.get("args", [])
        if not isinstance(args, list):
            raise self.derr(where, "args must be a list")
        return [self.decode(a, where) for a in args]

    def body_of(self, h, key, where):
        body = h.get(key, [])
        if not isinstance(body, list):
            raise self.derr(where, "%s must be a list of actions" % key)
        return body

    def make_fn(self, label, body, where, receives):
        """A Python function running BODY. receives=True: its first argument is
        the result (recorded as arg), the rest are extra args; False: all
        arguments are extra args (maybeDeferred / run functions).
        The closure holds the case and the JSON body only: Deferreds are
        looked up by name when it runs."""
        if not isinstance(label, str):
            raise self.derr(where, "label must be a string")
        case = self

        def fn(*received):
            if receives:
                arg, extra = received[0], received[1:]
                entry = {"call": label, "arg": case.encode(arg)}
            else:
                arg, extra = None, received
                entry = {"call": label}
            if extra:
                entry["args"] = case.encode(list(extra))
            if case.recording:
                case.trace.append(entry)
            return case.run_body(body, receives, arg, where + " body")

        fn.__name__ = "handler_" + "".join(c if c in NAME_CHARS else "_" for c in label)
        fn.__qualname__ = fn.__name__
        return fn

    def handler(self, h, where):
        h = self.handler_spec(h, where)
        fn = self.make_fn(h["label"], self.body_of(h, "do", where), where, True)
        return fn, self.args_of(h, where)

    # bodies ------------------------------------------------------------------
    def do_action(self, action, has_arg, arg, where):
        """Run one body action. Returns (True, value) when it ends the body."""
        if isinstance(action, str):
            if action in ARG_ACTIONS and not has_arg:
                raise self.derr(where, "%s needs a received argument" % action)
            if action == "returnArgument":
                return True, arg
            if action == "raiseArgument":
                if isinstance(arg, Failure):
                    arg.raiseException()
                if isinstance(arg, BaseException):
                    raise arg
                raise self.derr(where, "raiseArgument: the received result is not a Failure")
            raise self.derr(where, "unknown action %r" % (action,))
        if not isinstance(action, dict):
            raise self.derr(where, "an action must be a string or an object")
        if "op" in action:
            if action["op"] == "await":
                raise self.derr(where, "await is only allowed in a coroutine body")
            try:
                self.step(action, where)
            except StepRaised as sr:
                raise sr.exc from None
            return False, None
        keys = set(action)
        if keys == {"return"}:
            return True, self.decode(action["return"], where)
        if keys <= {"raise", "message"} and "raise" in keys:
            raise self.make_error(action["raise"], action.get("message"), where)
        if keys == {"returnDeferred"}:
            return True, self.deferred(action["returnDeferred"], where)
        if keys == {"trap"}:
            if not has_arg:
                raise self.derr(where, "trap needs a received argument")
            classes = self.error_classes(action["trap"], where)
            if not isinstance(arg, Failure):
                raise self.derr(where, "trap: the received result is not a Failure")
            arg.trap(*classes)
            return False, None
        raise self.derr(where, "unknown action %s" % json.dumps(action)[:200])

    def run_body(self, body, has_arg, arg, where):
        for i, action in enumerate(body):
            done, value = self.do_action(action, has_arg, arg, "%s[%d]" % (where, i))
            if done:
                return value
        return None

    async def coroutine_body(self, body, where):
        for i, action in enumerate(body):
            w = "%s[%d]" % (where, i)
            if isinstance(action, dict) and action.get("op") == "await":
                self.check_fields(action, STEP_FIELDS["await"], w, "await")
                label = action["label"]
                catch = self.error_classes(action["catch"], w) if "catch" in action else []
                d = self.deferred(action["target"], w)
                try:
                    r = await d
                except Exception as e:  # noqa: BLE001
                    del d
                    if self.recording:
                        self.trace.append({"call": label, "arg": self.encode_exc(e)})
                    if catch and isinstance(e, tuple(catch)):
                        continue
                    raise
                del d
                if self.recording:
                    self.trace.append({"call": label, "arg": self.encode(r)})
                continue
            done, value = self.do_action(action, False, None, w)
            if done:
                return value
        return None

    # steps -------------------------------------------------------------------
    def step(self, s, where):
        if not isinstance(s, dict) or "op" not in s:
            raise self.derr(where, "a step must be an object with an op")
        op = s["op"]
        if op not in STEP_FIELDS or op == "await":
            raise self.derr(where, "unknown step op: %s" % (op,))
        where = "%s (%s)" % (where, op)
        self.check_fields(s, STEP_FIELDS[op], where, "step")
        getattr(self, "op_" + op)(s, where)

    def bind(self, s, where, fn, *a, **kw):
        name = s["name"]
        self.check_new_name(name, where)
        obj = self.lib(fn, *a, **kw)
        self.check_new_name(name, where)  # a callback may have taken it meanwhile
        self.ns[name] = obj

    def op_new(self, s, where):
        if "canceller" in s:
            h = self.handler_spec(s["canceller"], where + " canceller")
            fn = self.make_fn(h["label"], self.body_of(h, "do", where), where + " canceller", True)
            args = self.args_of(h, where)
            canceller = (lambda d: fn(d, *args)) if args else fn
            self.bind(s, where, Deferred, canceller)
        else:
            self.bind(s, where, Deferred)

    def op_succeed(self, s, where):
        self.bind(s, where, defer.succeed, self.decode(s["value"], where))

    def op_fail(self, s, where):
        self.bind(s, where, defer.fail, self.make_error(s["error"], s.get("message"), where))

    def op_maybeDeferred(self, s, where):
        fn = self.make_fn(s["label"], self.body_of(s, "do", where), where, False)
        self.bind(s, where, maybeDeferred, fn, *self.args_of(s, where))

    def members(self, s, where):
        m = s["members"]
        if not isinstance(m, list):
            raise self.derr(where, "members must be a list of names")
        return [self.deferred(n, where) for n in m]

    def flag(self, s, key, where):
        v = s.get(key, False)
        if not isinstance(v, bool):
            raise self.derr(where, "%s must be a boolean" % key)
        return v

    def op_DeferredList(self, s, where):
        self.bind(s, where, DeferredList, self.members(s, where),
                  fireOnOneCallback=self.flag(s, "fireOnOneCallback", where),
                  fireOnOneErrback=self.flag(s, "fireOnOneErrback", where),
                  consumeErrors=self.flag(s, "consumeErrors", where))

    def op_gatherResults(self, s, where):
        self.bind(s, where, gatherResults, self.members(s, where),
                  consumeErrors=self.flag(s, "consumeErrors", where))

    def op_coroutine(self, s, where):
        body = self.body_of(s, "body", where)
        self.bind(s, where, lambda: ensureDeferred(self.coroutine_body(body, where + " body")))

    def add(self, s, where, method):
        d = self.deferred(s["target"], where)
        fn = self.make_fn(s["label"], self.body_of(s, "do", where), where, True)
        self.lib(getattr(d, method), fn, *self.args_of(s, where))

    def op_addCallback(self, s, where):
        self.add(s, where, "addCallback")

    def op_addErrback(self, s, where):
        self.add(s, where, "addErrback")

    def op_addBoth(self, s, where):
        self.add(s, where, "addBoth")

    def op_addCallbacks(self, s, where):
        d = self.deferred(s["target"], where)
        cb, cba = self.handler(s["callback"], where + " callback")
        kw = {"callbackArgs": tuple(cba)}
        if "errback" in s:
            eb, eba = self.handler(s["errback"], where + " errback")
            kw["errback"] = eb
            kw["errbackArgs"] = tuple(eba)
        self.lib(d.addCallbacks, cb, **kw)

    def op_chainDeferred(self, s, where):
        d = self.deferred(s["target"], where)
        e = self.deferred(s["to"], where)
        self.lib(d.chainDeferred, e)

    def op_addTimeout(self, s, where):
        d = self.deferred(s["target"], where)
        if not is_number(s["seconds"]):
            raise self.derr(where, "seconds must be a number")
        otc = None
        if "onTimeoutCancel" in s:
            h = self.handler_spec(s["onTimeoutCancel"], where + " onTimeoutCancel")
            if h.get("args"):
                raise self.derr(where, "onTimeoutCancel takes no args (it receives the timeout)")
            otc = self.make_fn(h["label"], self.body_of(h, "do", where), where + " onTimeoutCancel", True)
        self.lib(d.addTimeout, s["seconds"], self.clock, otc)

    def op_callback(self, s, where):
        d = self.deferred(s["target"], where)
        self.lib(d.callback, self.decode(s["value"], where))

    def op_errback(self, s, where):
        d = self.deferred(s["target"], where)
        # The bare exception: Twisted wraps it in a Failure itself (firing.errback-wraps-error).
        self.lib(d.errback, self.make_error(s["error"], s.get("message"), where))

    def op_cancel(self, s, where):
        self.lib(self.deferred(s["target"], where).cancel)

    def op_pause(self, s, where):
        self.lib(self.deferred(s["target"], where).pause)

    def op_unpause(self, s, where):
        self.lib(self.deferred(s["target"], where).unpause)

    def op_advance(self, s, where):
        if not is_number(s["seconds"]):
            raise self.derr(where, "seconds must be a number")
        self.lib(self.clock.advance, s["seconds"])

    def op_drop(self, s, where):
        name = s["target"]
        self.lookup(name, where)
        del self.ns[name]
        gc.collect()

    def op_mark(self, s, where):
        if not isinstance(s["label"], str):
            raise self.derr(where, "label must be a string")
        if self.recording:
            self.trace.append({"mark": s["label"]})

    def op_DeferredLock(self, s, where):
        self.bind(s, where, DeferredLock)

    def op_DeferredSemaphore(self, s, where):
        if not isinstance(s["tokens"], int) or isinstance(s["tokens"], bool):
            raise self.derr(where, "tokens must be an integer")
        self.bind(s, where, DeferredSemaphore, s["tokens"])

    def op_DeferredQueue(self, s, where):
        for k in ("size", "backlog"):
            v = s.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise self.derr(where, "%s must be an integer or null" % k)
        self.bind(s, where, DeferredQueue, s.get("size"), s.get("backlog"))

    def primitive(self, s, where):
        return self.lookup(s["target"], where, (DeferredLock, DeferredSemaphore),
                           "DeferredLock or DeferredSemaphore")

    def op_acquire(self, s, where):
        self.bind(s, where, self.primitive(s, where).acquire)

    def op_release(self, s, where):
        self.lib(self.primitive(s, where).release)

    def op_run(self, s, where):
        p = self.primitive(s, where)
        fn = self.make_fn(s["label"], self.body_of(s, "do", where), where, False)
        self.bind(s, where, p.run, fn, *self.args_of(s, where))

    def queue(self, s, where):
        return self.lookup(s["target"], where, DeferredQueue, "DeferredQueue")

    def op_put(self, s, where):
        q = self.queue(s, where)
        self.lib(q.put, self.decode(s["value"], where))

    def op_get(self, s, where):
        self.bind(s, where, self.queue(s, where).get)

    # the whole program ---------------------------------------------------------
    def final_state(self, obj):
        if isinstance(obj, Deferred):
            if not obj.called:
                st = {"state": "pending"}
                if obj.paused:
                    st["paused"] = obj.paused
                return st
            res = obj.result
            if isinstance(res, Deferred):
                # Waiting: a handler returned `res`, which had no result yet;
                # _runCallbacks paused obj once for the chain (so the program's
                # own pauses are paused - 1) and set _chainedTo = res. Do not
                # test _chainedTo alone: it goes stale. It is cleared only when
                # obj's callbacks run again, so it still names the old target
                # when the result arrived while obj was paused by the program,
                # and chainDeferred sets it on a target that then fires normally.
                user = obj.paused - 1
                st = {"state": "waiting", "inner": self.name_of(res)}
                if user > 0:
                    st["paused"] = user
                return st
            if obj.paused:
                return {"state": "paused", "paused": obj.paused, "result": self.encode(res)}
            return {"state": "fired", "result": self.encode(res)}
        if isinstance(obj, DeferredLock):
            return {"locked": bool(obj.locked), "waiting": len(obj.waiting)}
        if isinstance(obj, DeferredSemaphore):
            return {"tokens": obj.tokens, "limit": obj.limit, "waiting": len(obj.waiting)}
        if isinstance(obj, DeferredQueue):
            return {"pending": [self.encode(v) for v in obj.pending], "waiting": len(obj.waiting)}
        return {"$object": None, "type": "Other:" + type(obj).__name__}

    def run(self, program):
        if not isinstance(program, list):
            raise DriverError("program must be a list of steps")
        for i, s in enumerate(program):
            try:
                self.step(s, "step %d" % i)
            except StepRaised as sr:
                if self.recording:
                    self.trace.append({"raised": self.encode_exc(sr.exc), "step": i})
                del sr
            if self.driver_error is not None:
                raise DriverError(self.driver_error)
        if self.driver_error is not None:
            raise DriverError(self.driver_error)
        final = {name: self.final_state(obj) for name, obj in self.ns.items()}
        return {"trace": self.trace, "final": final}

    def teardown(self):
        self.recording = False
        self.ns.clear()
        self.clock = None
        gc.collect()


def run_case(program):
    global CURRENT
    case = Case()
    CURRENT = case
    try:
        obs = case.run(program)
        if case.driver_error is not None:  # raised late, e.g. inside a report
            raise DriverError(case.driver_error)
        json.dumps(obs)  # make sure it serialises before answering
        return {"outcome": "observed", "observations": obs}
    except DriverError as e:
        return {"outcome": "errored", "message": str(e)}
    except Exception as e:  # noqa: BLE001 - a bug of the driver: errored, never a crash
        log(traceback.format_exc())
        return {"outcome": "errored",
                "message": "driver internal error: %s: %s" % (type(e).__name__, e)}
    finally:
        try:
            case.teardown()
        except Exception:  # noqa: BLE001
            log("teardown failed: " + traceback.format_exc())
        case.trace = []
        CURRENT = None
        gc.collect()


# --- bench -----------------------------------------------------------------------

def _passthru(r):
    return r


def _raise_it(f):
    f.raiseException()


def _recover(f):
    return 0


def _to_failure(r):
    return Failure(TestError("x"))


def _consume(f):
    return None


def _bench_once(workload, n):
    """Returns the elapsed nanoseconds for one run of n steps."""
    pc = time.perf_counter_ns
    if workload == "chain":
        t = pc()
        d = Deferred()
        for _ in range(n):
            d.addCallback(_passthru)
        d.callback(0)
        return pc() - t
    if workload == "fired-chain":
        t = pc()
        d = defer.succeed(0)
        for _ in range(n):
            d.addCallback(_passthru)
        return pc() - t
    if workload in ("errback-return", "errback-throw", "skip", "recover"):
        d = Deferred()
        t = pc()
        for _ in range(n):
            if workload == "errback-return":
                d.addErrback(_passthru)
            elif workload == "errback-throw":
                d.addErrback(_raise_it)
            elif workload == "skip":
                d.addCallback(_passthru)
            else:  # recover: alternate failing callback / recovering errback
                d.addCallbacks(_to_failure, _recover)
        d.errback(Failure(TestError("x")))
        el = pc() - t
        d.addErrback(_consume)
        return el
    if workload in ("nested-ready", "nested-later"):
        inner = [Deferred() for _ in range(n)] if workload == "nested-later" else None
        t = pc()
        d = Deferred()
        if inner is None:
            for _ in range(n):
                d.addCallback(defer.succeed)
            d.callback(0)
        else:
            it = iter(inner)
            for _ in range(n):
                d.addCallback(lambda r, it=it: next(it))
            d.callback(0)
            for x in inner:
                x.callback(0)
        return pc() - t
    if workload in ("list", "gather"):
        ds = [Deferred() for _ in range(n)]
        t = pc()
        agg = DeferredList(ds) if workload == "list" else gatherResults(ds)
        for x in ds:
            x.callback(0)
        el = pc() - t
        del agg
        return el
    if workload == "cancel":
        t = pc()
        for _ in range(n):
            d = Deferred()
            d.addErrback(_consume)
            d.cancel()
        return pc() - t
    if workload == "await":
        async def body():
            for _ in range(n):
                await defer.succeed(0)
        t = pc()
        ensureDeferred(body())
        return pc() - t
    return None


BENCH_WORKLOADS = ("chain", "fired-chain", "errback-return", "errback-throw", "recover",
                   "skip", "nested-ready", "nested-later", "list", "gather", "cancel", "await")


def bench(req):
    workload, n, repeat = req.get("workload"), req.get("n", 1000), req.get("repeat", 1)
    if workload not in BENCH_WORKLOADS:
        return {"outcome": "skipped", "reason": "workload %r is not implemented" % (workload,)}
    if not isinstance(n, int) or n < 1 or not isinstance(repeat, int) or repeat < 1:
        return {"outcome": "skipped", "reason": "n and repeat must be positive integers"}
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10 * n + 1000))
    try:
        out = []
        for _ in range(repeat):
            out.append(_bench_once(workload, n) / n)
            gc.collect()
        return {"outcome": "timed", "ns_per_step": out}
    finally:
        sys.setrecursionlimit(old)


# --- main loop ----------------------------------------------------------------------

def handshake(req):
    if _IMPORT_ERROR is not None:
        send({"error": "cannot import Twisted with %s (%s); install Debian's python3-twisted "
                       "(apt-get install python3-twisted) and run the driver with /usr/bin/python3"
                       % (sys.executable, _IMPORT_ERROR)})
        sys.exit(1)
    if req.get("protocol") != PROTOCOL_VERSION:
        send({"error": "protocol version %r is not supported (this driver speaks %d)"
                       % (req.get("protocol"), PROTOCOL_VERSION)})
        sys.exit(1)
    send({"protocol": PROTOCOL_VERSION,
          "implementation": {"name": "twisted", "version": twisted.__version__,
                             "language": "python", "homepage": "https://twisted.org"},
          "features": FEATURES})


def main():
    if _IMPORT_ERROR is None:
        install_logging()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request must be a JSON object")
        except ValueError as e:
            send({"error": "malformed request: %s" % e})
            continue
        cmd = req.get("cmd")
        if cmd == "start":
            handshake(req)
        elif cmd == "stop":
            sys.exit(0)
        elif cmd in ("run", "bench"):
            seq = req.get("seq")
            # bench answers only timed/skipped (bench-response.schema.json)
            if _IMPORT_ERROR is not None:
                why = "Twisted is not importable with %s: %s" % (sys.executable, _IMPORT_ERROR)
                send({"seq": seq, "outcome": "errored", "message": why} if cmd == "run"
                     else {"seq": seq, "outcome": "skipped", "reason": why})
                continue
            try:
                resp = run_case(req.get("program")) if cmd == "run" else bench(req)
            except Exception as e:  # noqa: BLE001
                log(traceback.format_exc())
                why = "driver internal error: %s: %s" % (type(e).__name__, e)
                resp = ({"outcome": "errored", "message": why} if cmd == "run"
                        else {"outcome": "skipped", "reason": why})
            resp = dict({"seq": seq}, **resp)
            send(resp)
        else:
            send({"seq": req.get("seq"), "outcome": "errored", "message": "unknown cmd %r" % (cmd,)})
    sys.exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env node
// Conformance driver: runs Deferred spec programs (spec/README.md) against
// JavaScript promise libraries, speaking the JSON-lines protocol of
// conformance/PROTOCOL.md on stdin/stdout.
//
//   node driver.mjs LIBRARY [--assume FEATURE,...]
//
// LIBRARY is one of: node-promise (the native Promise), bluebird, q.
// --assume adds features to the declared set without the library having them,
// to explore how far a library gets (e.g. --assume synchronous runs the few
// cases that depend on nested, synchronous execution).
//
// The mapping from the step language to promises is described in README.md.
// Node.js standard library + bluebird + q (pinned in package.json).

import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);

// --- stdout is the protocol channel ------------------------------------------
const protoWrite = process.stdout.write.bind(process.stdout);
for (const k of ["log", "info", "debug", "warn"]) console[k] = (...a) => console.error(...a);
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);

function send(obj) {
  protoWrite(JSON.stringify(obj) + "\n");
}

function log(msg) {
  process.stderr.write("js-driver: " + msg + "\n");
}

const PROTOCOL_VERSION = 1;

// --- the error taxonomy (spec/errors.yaml) -----------------------------------
class TestError extends Error {
  constructor(message = "") {
    super(message);
    this.name = new.target.name;
  }
}
class TestErrorA extends TestError {}
class TestErrorA1 extends TestErrorA {}
class TestErrorB extends TestError {}
const TEST_ERRORS = { TestError, TestErrorA, TestErrorA1, TestErrorB };

// Library errors of the taxonomy. None of the libraries raises these (they have
// no AlreadyCalledError, FirstError, ...); the classes exist so that a program
// can give them as values ({$failure: CancelledError} in a callback value).
class LibraryError extends Error {}
class CancelledError extends LibraryError {}
class AlreadyCalledError extends LibraryError {}
class TimeoutErrorT extends LibraryError {}
class QueueOverflow extends LibraryError {}
class QueueUnderflow extends LibraryError {}
class SelfChainError extends LibraryError {}
class FirstError extends LibraryError {
  constructor(sub, index) {
    super("FirstError");
    this.subFailure = sub;
    this.index = index;
  }
}
const LIBRARY_ERRORS = {
  CancelledError, AlreadyCalledError, TimeoutError: TimeoutErrorT, QueueOverflow,
  QueueUnderflow, SelfChainError, FirstError,
};
const LIBRARY_NAMES = new Map(Object.entries(LIBRARY_ERRORS).map(([k, v]) => [v, k]));

class DriverError extends Error {}

// --- the libraries ----------------------------------------------------------------
// Each adapter: defer() -> {promise, resolve, reject}; resolved(v); rejected(e);
// then(p, onF, onR); all(ps); attempt(f, args) (maybeDeferred);
// coroutine(genFn) -> promise (ensureDeferred); inspect(p) -> {state, value}
// or null when the library cannot inspect a promise synchronously.

function nativeAdapter() {
  return {
    name: "node-promise",
    version: process.versions.node,
    homepage: "https://nodejs.org/api/globals.html#promise",
    features: ["core", "final-state", "chain-deferred", "gather", "maybe-deferred",
      "coroutine"],
    defer() {
      let resolve, reject;
      const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    },
    resolved: (v) => Promise.resolve(v),
    rejected: (e) => Promise.reject(e),
    then: (p, f, r) => p.then(f, r),
    all: (ps) => Promise.all(ps),
    // Promise.try (ES2025) where it exists, else its specified equivalent.
    attempt: (f, args) => (typeof Promise.try === "function"
      ? Promise.try(f, ...args) : new Promise((res) => res(f(...args)))),
    // ensureDeferred(coro()) == calling an async function; the generator below
    // is run exactly as an async function runs its body (one await per yield).
    coroutine(genFn) {
      return (async () => {
        const gen = genFn();
        let r = gen.next();
        while (!r.done) {
          let ok = true;
          let v;
          try { v = await r.value; } catch (e) { ok = false; v = e; }
          r = ok ? gen.next(v) : gen.throw(v);
        }
        return r.value;
      })();
    },
    inspect: null, // native promises cannot be inspected synchronously
    isPromise: (x) => x instanceof Promise,
  };
}

function bluebirdAdapter() {
  const B = require("bluebird");
  const version = require("bluebird/package.json").version;
  return {
    name: "bluebird",
    version,
    homepage: "http://bluebirdjs.com",
    features: ["core", "final-state", "chain-deferred", "gather", "maybe-deferred",
      "coroutine"],
    defer() {
      let resolve, reject;
      const promise = new B((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    },
    resolved: (v) => B.resolve(v),
    rejected: (e) => B.reject(e),
    then: (p, f, r) => p.then(f, r),
    all: (ps) => B.all(ps),
    attempt: (f, args) => B.method(f)(...args),
    coroutine: (genFn) => B.coroutine(genFn)(),
    inspect(p) {
      if (p.isPending()) return { state: "pending" };
      if (p.isFulfilled()) return { state: "fulfilled", value: p.value() };
      if (p.isRejected()) return { state: "rejected", value: p.reason() };
      return { state: "pending" }; // cancelled: not used (cancellation is off)
    },
    isPromise: (x) => x instanceof B,
  };
}

function qAdapter() {
  const Q = require("q");
  const version = require("q/package.json").version;
  // Q keeps unhandled rejections in a list and prints them at exit; the driver
  // does not map that (no event, reasons are kept as strings): turn it off.
  if (typeof Q.stopUnhandledRejectionTracking === "function") Q.stopUnhandledRejectionTracking();
  return {
    name: "q",
    version,
    homepage: "https://github.com/kriskowal/q",
    features: ["core", "final-state", "chain-deferred", "gather", "maybe-deferred", "coroutine"],
    defer() {
      const d = Q.defer(); // Q's own deferred: {promise, resolve, reject}
      return { promise: d.promise, resolve: (v) => d.resolve(v), reject: (e) => d.reject(e) };
    },
    resolved: (v) => Q.resolve(v),
    rejected: (e) => Q.reject(e),
    then: (p, f, r) => p.then(f, r),
    all: (ps) => Q.all(ps),
    attempt: (f, args) => Q.fcall(f, ...args),
    coroutine: (genFn) => Q.async(genFn)(),
    inspect(p) {
      const s = p.inspect();
      if (s.state === "fulfilled") return { state: "fulfilled", value: s.value };
      if (s.state === "rejected") return { state: "rejected", value: s.reason };
      return { state: "pending" };
    },
    isPromise: (x) => Q.isPromise(x),
  };
}

const ADAPTERS = { "node-promise": nativeAdapter, native: nativeAdapter, bluebird: bluebirdAdapter, q: qAdapter };

// --- arguments ----------------------------------------------------------------
function parseArgs(argv) {
  const out = { lib: null, assume: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--assume") out.assume.push(...String(argv[++i] || "").split(",").filter(Boolean));
    else if (a.startsWith("--assume=")) out.assume.push(...a.slice(9).split(",").filter(Boolean));
    else if (out.lib === null) out.lib = a;
    else throw new Error("unexpected argument " + JSON.stringify(a));
  }
  return out;
}

let ARGS;
let LIB = null;
let LIB_ERROR = null;
try {
  ARGS = parseArgs(process.argv.slice(2));
  if (!ARGS.lib) throw new Error("usage: driver.mjs node-promise|bluebird|q [--assume FEATURE,...]");
  if (!ADAPTERS[ARGS.lib]) throw new Error("unknown library " + JSON.stringify(ARGS.lib) + " (node-promise, bluebird, q)");
  LIB = ADAPTERS[ARGS.lib]();
} catch (e) {
  LIB_ERROR = String(e && e.message ? e.message : e);
  ARGS = ARGS || { assume: [] };
}

// --- scheduling -----------------------------------------------------------------
// Promise handlers run later (a microtask for native promises and q's
// process.nextTick queue, a setImmediate batch for bluebird). After every step
// the driver lets every queued job run by waiting a few macrotask turns.
const DRAIN_TURNS = 4;
async function drain() {
  for (let i = 0; i < DRAIN_TURNS; i++) await new Promise((r) => setImmediate(r));
}

// --- unhandled rejections -----------------------------------------------------------
let CURRENT = null; // the case being run
process.on("unhandledRejection", (reason) => {
  // Every library here reports a rejection that has no handler once the job
  // queue is empty; the spec's unhandled-error is a report when the last
  // reference goes away, which they do not have (the feature is not declared):
  // inside a case the report is ignored.
  const c = CURRENT;
  if (c && c.recording && LIB && LIB.features.includes("unhandled-error")) {
    c.trace.push({ unhandled: c.encode(reason) });
  } else if (!c) {
    log("unhandled rejection outside a case: " + (reason && reason.stack ? reason.stack : String(reason)));
  }
});
process.on("rejectionHandled", () => {});

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ARG_ACTIONS = new Set(["returnArgument", "raiseArgument"]);

// --- one case ---------------------------------------------------------------------
// A named Deferred is an Entry: the promise made at creation and its resolve /
// reject functions, and `links`: the promise made at creation followed by the
// promise each then() returned, in order; the last link is the tail, to which
// the next handler is attached (d = d.then(...)).
class Entry {
  constructor(promise, resolve, reject) {
    this.resolve = resolve;
    this.reject = reject;
    this.links = [promise];
  }
  get tail() { return this.links[this.links.length - 1]; }
}

class Case {
  constructor(lib) {
    this.lib = lib;
    this.ns = new Map();
    this.trace = [];
    this.recording = true;
    this.driverError = null;
    this.returned = new Map(); // link promise -> the thenable its handler returned
  }

  derr(where, msg) {
    const full = where + ": " + msg;
    if (this.driverError === null) this.driverError = full;
    return new DriverError(full);
  }

  // names ---------------------------------------------------------------------
  entry(name, where) {
    if (typeof name !== "string" || !this.ns.has(name)) throw this.derr(where, "unknown name " + JSON.stringify(name));
    return this.ns.get(name);
  }

  bindNew(name, where, entry) {
    if (typeof name !== "string" || !NAME_RE.test(name)) throw this.derr(where, "invalid name " + JSON.stringify(name));
    if (this.ns.has(name)) throw this.derr(where, "name " + JSON.stringify(name) + " already exists");
    this.ns.set(name, entry);
  }

  nameOf(p) {
    for (const [k, e] of this.ns) if (e.tail === p) return k;
    for (const [k, e] of this.ns) if (e.links.includes(p)) return k;
    return null;
  }

  // values --------------------------------------------------------------------
  makeError(type, message, where, extra = {}) {
    if (message === undefined || message === null) message = "";
    if (typeof message !== "string") throw this.derr(where, "message must be a string");
    if (TEST_ERRORS[type]) return new TEST_ERRORS[type](message);
    if (type === "FirstError") {
      if (!("index" in extra) || !("sub" in extra)) throw this.derr(where, "FirstError needs index and sub");
      return new FirstError(this.decode(extra.sub, where), extra.index);
    }
    if (LIBRARY_ERRORS[type]) return new LIBRARY_ERRORS[type]();
    throw this.derr(where, "unknown error type " + JSON.stringify(type));
  }

  errorClasses(types, where) {
    if (!Array.isArray(types) || types.length === 0) throw this.derr(where, "expected a non-empty list of error types");
    return types.map((t) => {
      if (TEST_ERRORS[t]) return TEST_ERRORS[t];
      if (LIBRARY_ERRORS[t]) return LIBRARY_ERRORS[t];
      throw this.derr(where, "unknown error type " + JSON.stringify(t));
    });
  }

  decode(v, where) {
    if (Array.isArray(v)) return v.map((x) => this.decode(x, where));
    if (v !== null && typeof v === "object") {
      if ("$failure" in v) {
        const { $failure, message, ...extra } = v;
        return this.makeError($failure, message, where, extra);
      }
      if ("$deferred" in v) return this.entry(v.$deferred, where).tail;
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith("$")) throw this.derr(where, "reserved key " + JSON.stringify(k) + " in a value");
        out[k] = this.decode(x, where);
      }
      return out;
    }
    return v;
  }

  encodeError(e) {
    if (e instanceof TestError) return { $failure: e.constructor.name, message: e.message };
    if (e instanceof FirstError) return { $failure: "FirstError", index: e.index, sub: this.encode(e.subFailure) };
    if (e instanceof LibraryError) return { $failure: LIBRARY_NAMES.get(e.constructor) || "Other:" + e.constructor.name };
    const ctor = e && e.constructor && e.constructor.name ? e.constructor.name : "Error";
    return { $failure: "Other:" + ctor, message: String(e && e.message !== undefined ? e.message : e) };
  }

  encode(v, depth = 0) {
    if (depth > 50) return { $object: null, type: "Other:too-deep" };
    if (v === undefined || v === null) return null;
    if (typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return { $object: null, type: "Other:number:" + String(v) };
      return v;
    }
    if (v instanceof Error) return this.encodeError(v);
    if (this.lib.isPromise(v) || (typeof v === "object" && typeof v.then === "function")) {
      return { $deferred: this.nameOf(v) };
    }
    if (Array.isArray(v)) return v.map((x) => this.encode(x, depth + 1));
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.encode(x, depth + 1);
      return out;
    }
    return { $object: null, type: "Other:" + (v && v.constructor ? v.constructor.name : typeof v) };
  }

  // handlers -------------------------------------------------------------------
  bodyOf(obj, key, where) {
    const b = obj[key] === undefined ? [] : obj[key];
    if (!Array.isArray(b)) throw this.derr(where, key + " must be a list of actions");
    return b;
  }

  argsOf(obj, where) {
    const a = obj.args === undefined ? [] : obj.args;
    if (!Array.isArray(a)) throw this.derr(where, "args must be a list");
    return a;
  }

  // A JS function running BODY. receives: its argument is the result (recorded
  // as arg). holder.link is set to the promise the then() returned, so that a
  // returned thenable can be reported as what that link waits for.
  makeFn(label, body, where, receives, holder, extraArgs = []) {
    if (typeof label !== "string") throw this.derr(where, "label must be a string");
    return (...got) => {
      if (this.recording) {
        const ev = { call: label };
        if (receives) ev.arg = this.encode(got[0]);
        const extra = receives ? got.slice(1) : got;
        if (extra.length) ev.args = extra.map((x) => this.encode(x));
        if (this.recording) this.trace.push(ev);
      }
      const out = this.runBody(body, receives ? got[0] : undefined, where, receives);
      if (holder && out !== null && typeof out === "object" && typeof out.then === "function") {
        if (holder.link) this.returned.set(holder.link, out);
        else holder.pendingReturn = out;
      }
      return out;
    };
  }

  runBody(body, arg, where, receives) {
    for (const action of body) {
      if (typeof action === "string") {
        if (!ARG_ACTIONS.has(action)) throw this.derr(where, "unknown action " + JSON.stringify(action));
        if (!receives) throw this.derr(where, action + " in a function that receives no argument");
        if (action === "returnArgument") return arg;
        throw arg; // raiseArgument: rethrow the rejection reason
      }
      if (action === null || typeof action !== "object") throw this.derr(where, "bad action " + JSON.stringify(action));
      if ("op" in action) {
        this.step(action, where + " body");
        continue;
      }
      if ("return" in action) return this.decode(action.return, where);
      if ("raise" in action) throw this.makeError(action.raise, action.message, where);
      if ("returnDeferred" in action) return this.entry(action.returnDeferred, where).tail;
      if ("trap" in action) {
        const classes = this.errorClasses(action.trap, where);
        if (!receives) throw this.derr(where, "trap in a function that receives no argument");
        if (!classes.some((c) => arg instanceof c)) throw arg;
        continue;
      }
      throw this.derr(where, "unknown action " + JSON.stringify(action));
    }
    return undefined;
  }

  handlerSpec(h, where) {
    if (h === null || typeof h !== "object" || Array.isArray(h)) throw this.derr(where, "a handler must be an object {label, do, args}");
    if (typeof h.label !== "string") throw this.derr(where, "handler is missing label");
    return h;
  }

  noArgs(obj, where) {
    if (obj.args !== undefined && (!Array.isArray(obj.args) || obj.args.length)) {
      // Promise handlers receive the result only; binding extra arguments in a
      // closure would be the driver's doing, not the library's.
      throw this.derr(where, "extra handler args are not supported (promise handlers take one argument)");
    }
  }

  // attach (onF, onR) to the target's tail: the new promise becomes the tail
  attach(entry, mk) {
    const holder = { link: null, pendingReturn: null };
    const [f, r] = mk(holder);
    const p = this.lib.then(entry.tail, f, r);
    holder.link = p;
    if (holder.pendingReturn) this.returned.set(p, holder.pendingReturn); // q/bluebird never call synchronously, but be safe
    entry.links.push(p);
  }

  // coroutine body: a generator; each {op: await} yields the awaited promise
  *coroutineBody(body, where) {
    for (const action of body) {
      if (action !== null && typeof action === "object" && action.op === "await") {
        const e = this.entry(action.target, where);
        if (typeof action.label !== "string") throw this.derr(where, "await needs a label");
        const classes = action.catch === undefined ? [] : this.errorClasses(action.catch, where);
        let ok = true;
        let v;
        try { v = yield e.tail; } catch (err) { ok = false; v = err; }
        if (this.recording) this.trace.push({ call: action.label, arg: this.encode(v) });
        if (!ok && !classes.some((c) => v instanceof c)) throw v;
        continue;
      }
      if (typeof action === "string") throw this.derr(where, action + " in a coroutine body");
      if (action !== null && typeof action === "object" && !("op" in action) && ("return" in action || "raise" in action || "returnDeferred" in action)) {
        return this.runBody([action], undefined, where, false);
      }
      this.runBody([action], undefined, where, false);
    }
    return undefined;
  }

  // steps -------------------------------------------------------------------------
  step(s, where) {
    if (s === null || typeof s !== "object" || Array.isArray(s)) throw this.derr(where, "a step must be an object");
    const fn = this["op_" + s.op];
    if (typeof s.op !== "string" || typeof fn !== "function") throw this.derr(where, "unknown step op " + JSON.stringify(s.op));
    fn.call(this, s, where);
  }

  op_new(s, where) {
    if ("canceller" in s) throw this.derr(where, "cancellers are not supported (feature cancel)");
    const { promise, resolve, reject } = this.lib.defer();
    this.bindNew(s.name, where, new Entry(promise, resolve, reject));
  }

  op_succeed(s, where) {
    const p = this.lib.resolved(this.decode(s.value, where));
    this.bindNew(s.name, where, new Entry(p, null, null));
  }

  op_fail(s, where) {
    const p = this.lib.rejected(this.makeError(s.error, s.message, where));
    this.bindNew(s.name, where, new Entry(p, null, null));
  }

  op_maybeDeferred(s, where) {
    const fn = this.makeFn(s.label, this.bodyOf(s, "do", where), where, false, null);
    const args = this.argsOf(s, where).map((a) => this.decode(a, where));
    const p = this.lib.attempt(fn, args);
    this.bindNew(s.name, where, new Entry(p, null, null));
  }

  op_gatherResults(s, where) {
    if (!Array.isArray(s.members)) throw this.derr(where, "members must be a list");
    // consumeErrors has no counterpart: Promise.all never changes its members.
    const ps = s.members.map((m) => this.entry(m, where).tail);
    this.bindNew(s.name, where, new Entry(this.lib.all(ps), null, null));
  }

  op_DeferredList(s, where) {
    throw this.derr(where, "DeferredList is not mapped (feature deferred-list)");
  }

  op_coroutine(s, where) {
    const body = this.bodyOf(s, "body", where);
    const p = this.lib.coroutine(() => this.coroutineBody(body, where + " body"));
    this.bindNew(s.name, where, new Entry(p, null, null));
  }

  addOne(s, where, kind) {
    this.noArgs(s, where);
    const e = this.entry(s.target, where);
    const body = this.bodyOf(s, "do", where);
    this.attach(e, (holder) => {
      const fn = this.makeFn(s.label, body, where, true, holder);
      if (kind === "callback") return [fn, undefined];
      if (kind === "errback") return [undefined, fn];
      return [fn, fn];
    });
  }

  op_addCallback(s, where) { this.addOne(s, where, "callback"); }
  op_addErrback(s, where) { this.addOne(s, where, "errback"); }
  op_addBoth(s, where) { this.addOne(s, where, "both"); }

  op_addCallbacks(s, where) {
    const e = this.entry(s.target, where);
    const cb = this.handlerSpec(s.callback, where + " callback");
    this.noArgs(cb, where + " callback");
    const eb = s.errback === undefined ? null : this.handlerSpec(s.errback, where + " errback");
    if (eb) this.noArgs(eb, where + " errback");
    this.attach(e, (holder) => [
      this.makeFn(cb.label, this.bodyOf(cb, "do", where), where, true, holder),
      eb ? this.makeFn(eb.label, this.bodyOf(eb, "do", where), where, true, holder) : undefined,
    ]);
  }

  // d.chainDeferred(e) is d.addCallbacks(e.callback, e.errback): with promises,
  // d = d.then(resolveE, rejectE) (both return undefined, like e.callback).
  op_chainDeferred(s, where) {
    const d = this.entry(s.target, where);
    const e = this.entry(s.to, where);
    if (!e.resolve) throw this.derr(where, JSON.stringify(s.to) + " was not made by new (it has no resolve/reject)");
    this.attach(d, () => [(v) => { e.resolve(v); }, (err) => { e.reject(err); }]);
  }

  firing(s, where) {
    const e = this.entry(s.target, where);
    if (!e.resolve) {
      // succeed/fail/maybeDeferred/gatherResults/coroutine promises have no
      // resolve function a program could call: firing them again is a no-op in
      // every promise library (a settled promise ignores resolve/reject).
      return null;
    }
    return e;
  }

  op_callback(s, where) {
    const v = this.decode(s.value, where);
    const e = this.firing(s, where);
    if (e) e.resolve(v);
  }

  op_errback(s, where) {
    const err = this.makeError(s.error, s.message, where);
    const e = this.firing(s, where);
    if (e) e.reject(err);
  }

  op_drop(s, where) {
    this.entry(s.target, where);
    this.ns.delete(s.target);
    if (typeof globalThis.gc === "function") globalThis.gc();
  }

  op_mark(s, where) {
    if (typeof s.label !== "string") throw this.derr(where, "label must be a string");
    if (this.recording) this.trace.push({ mark: s.label });
  }

  // final states ---------------------------------------------------------------------
  // Native promises cannot be inspected: observers are attached to every link
  // once the program has ended (so they cannot mark a rejection as handled
  // while the program runs), then the queue is drained and what they saw is read.
  async observeAll() {
    const seen = new Map();
    if (this.lib.inspect) return (p) => this.lib.inspect(p);
    for (const e of this.ns.values()) {
      for (const p of e.links) {
        if (seen.has(p)) continue;
        const st = { state: "pending" };
        seen.set(p, st);
        p.then((v) => { st.state = "fulfilled"; st.value = v; }, (r) => { st.state = "rejected"; st.value = r; });
      }
      for (const p of e.links) {
        const x = this.returned.get(p);
        if (x && !seen.has(x) && typeof x.then === "function") {
          const st = { state: "pending" };
          seen.set(x, st);
          x.then((v) => { st.state = "fulfilled"; st.value = v; }, (r) => { st.state = "rejected"; st.value = r; });
        }
      }
    }
    await drain();
    return (p) => seen.get(p) || { state: "pending" };
  }

  finalState(e, inspect) {
    const t = inspect(e.tail);
    if (t.state !== "pending") return { state: "fired", result: this.encode(t.value) };
    // Pending: is the chain waiting for a promise a handler returned? The first
    // pending link tells: its handler has run and returned a pending thenable.
    for (const p of e.links) {
      if (inspect(p).state !== "pending") continue;
      const x = this.returned.get(p);
      if (x) return { state: "waiting", inner: this.nameOf(x) };
      break;
    }
    return { state: "pending" };
  }

  async run(program) {
    if (!Array.isArray(program)) throw new DriverError("program must be a list of steps");
    for (let i = 0; i < program.length; i++) {
      const where = "step " + i;
      try {
        this.step(program[i], where);
      } catch (e) {
        if (e instanceof DriverError) throw e;
        if (this.recording) this.trace.push({ raised: this.encode(e), step: i });
      }
      await drain();
      if (this.driverError !== null) throw new DriverError(this.driverError);
    }
    const inspect = await this.observeAll();
    if (this.driverError !== null) throw new DriverError(this.driverError);
    const final = {};
    for (const [name, e] of this.ns) final[name] = this.finalState(e, inspect);
    return { trace: this.trace, final };
  }
}

async function runCase(program) {
  const c = new Case(LIB);
  CURRENT = c;
  try {
    const obs = await c.run(program);
    c.recording = false;
    JSON.stringify(obs);
    return { outcome: "observed", observations: obs };
  } catch (e) {
    if (e instanceof DriverError) return { outcome: "errored", message: e.message };
    log(e && e.stack ? e.stack : String(e));
    return { outcome: "errored", message: "driver internal error: " + (e && e.message ? e.message : String(e)) };
  } finally {
    c.recording = false;
    // let late reports (unhandled rejections of this case) arrive while the
    // case is still current but no longer recording, so that they are dropped
    await drain();
    CURRENT = null;
  }
}

// --- bench ----------------------------------------------------------------------------
const BENCH_WORKLOADS = ["chain", "fired-chain", "errback-return", "errback-throw", "recover",
  "skip", "nested-ready", "nested-later", "gather", "await"];

async function benchOnce(workload, n) {
  const L = LIB;
  const now = () => process.hrtime.bigint();
  const pass = (v) => v;
  if (workload === "chain" || workload === "skip") {
    const t = now();
    const d = L.defer();
    let p = d.promise;
    for (let i = 0; i < n; i++) p = L.then(p, pass);
    if (workload === "chain") d.resolve(0); else d.reject(new TestError("x"));
    await L.then(p, pass, () => null);
    return Number(now() - t);
  }
  if (workload === "fired-chain") {
    const t = now();
    let p = L.resolved(0);
    for (let i = 0; i < n; i++) p = L.then(p, pass);
    await p;
    return Number(now() - t);
  }
  if (workload === "errback-return" || workload === "errback-throw" || workload === "recover") {
    const d = L.defer();
    let p = d.promise;
    const t = now();
    for (let i = 0; i < n; i++) {
      if (workload === "errback-return") p = L.then(p, undefined, (e) => L.rejected(e));
      else if (workload === "errback-throw") p = L.then(p, undefined, (e) => { throw e; });
      else p = L.then(p, () => { throw new TestError("x"); }, () => 0);
    }
    d.reject(new TestError("x"));
    await L.then(p, pass, () => null);
    return Number(now() - t);
  }
  if (workload === "nested-ready" || workload === "nested-later") {
    const inner = workload === "nested-later" ? Array.from({ length: n }, () => L.defer()) : null;
    const t = now();
    const d = L.defer();
    let p = d.promise;
    for (let i = 0; i < n; i++) {
      p = inner ? L.then(p, () => inner[i].promise) : L.then(p, (v) => L.resolved(v));
    }
    d.resolve(0);
    if (inner) for (const x of inner) x.resolve(0);
    await p;
    return Number(now() - t);
  }
  if (workload === "gather") {
    const ds = Array.from({ length: n }, () => L.defer());
    const t = now();
    const g = L.all(ds.map((x) => x.promise));
    for (const x of ds) x.resolve(0);
    await g;
    return Number(now() - t);
  }
  if (workload === "await") {
    const t = now();
    await L.coroutine(function* body() { for (let i = 0; i < n; i++) yield L.resolved(0); });
    return Number(now() - t);
  }
  return null;
}

async function bench(req) {
  const { workload } = req;
  const n = req.n === undefined ? 1000 : req.n;
  const repeat = req.repeat === undefined ? 1 : req.repeat;
  if (!BENCH_WORKLOADS.includes(workload)) return { outcome: "skipped", reason: "workload " + JSON.stringify(workload) + " is not implemented" };
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(repeat) || repeat < 1) return { outcome: "skipped", reason: "n and repeat must be positive integers" };
  const out = [];
  await benchOnce(workload, n); // warm-up (module init, JIT), not timed
  await drain();
  for (let i = 0; i < repeat; i++) {
    const ns = await benchOnce(workload, n);
    out.push(ns / n);
    await drain();
  }
  return { outcome: "timed", ns_per_step: out };
}

// --- main loop ---------------------------------------------------------------------------
function handshake(req) {
  if (LIB_ERROR !== null) {
    send({ error: "cannot start: " + LIB_ERROR + " (run tools/setup to install the npm packages)" });
    process.exit(1);
  }
  if (req.protocol !== PROTOCOL_VERSION) {
    send({ error: "protocol version " + JSON.stringify(req.protocol) + " is not supported (this driver speaks 1)" });
    process.exit(1);
  }
  const features = [...new Set([...LIB.features, ...ARGS.assume])];
  send({
    protocol: PROTOCOL_VERSION,
    implementation: { name: LIB.name, version: LIB.version, language: "javascript", homepage: LIB.homepage },
    features,
  });
}

async function main() {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const raw of rl) {
    const line = raw.trim();
    if (!line) continue;
    let req;
    try {
      req = JSON.parse(line);
      if (req === null || typeof req !== "object" || Array.isArray(req)) throw new Error("a request must be a JSON object");
    } catch (e) {
      send({ error: "malformed request: " + e.message });
      continue;
    }
    const cmd = req.cmd;
    if (cmd === "start") {
      handshake(req);
    } else if (cmd === "stop") {
      process.exit(0);
    } else if (cmd === "run" || cmd === "bench") {
      const seq = req.seq;
      let resp;
      if (LIB_ERROR !== null) {
        resp = cmd === "run" ? { outcome: "errored", message: LIB_ERROR } : { outcome: "skipped", reason: LIB_ERROR };
      } else {
        try {
          resp = cmd === "run" ? await runCase(req.program) : await bench(req);
        } catch (e) {
          log(e && e.stack ? e.stack : String(e));
          const why = "driver internal error: " + (e && e.message ? e.message : String(e));
          resp = cmd === "run" ? { outcome: "errored", message: why } : { outcome: "skipped", reason: why };
        }
      }
      send({ seq, ...resp });
    } else {
      send({ seq: req.seq, outcome: "errored", message: "unknown cmd " + JSON.stringify(cmd) });
    }
  }
  process.exit(0);
}

main().catch((e) => {
  log(e && e.stack ? e.stack : String(e));
  process.exit(1);
});

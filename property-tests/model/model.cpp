// The model's Deferred follows the documented rules (spec/README.md, the
// Deferred reference and explainer) and, where they are silent, the structure
// of Twisted 22.4's twisted/internet/defer.py:
//
//  - a Deferred holds a list of (callback, errback) pairs, a result once
//    called, a pause count, and a "running callbacks" flag;
//  - running the callbacks pops pairs in order and calls the side matching
//    the current result (Failure -> errback); a handler that raises makes the
//    result a Failure; a handler that returns an unfired (or waiting, or
//    paused) Deferred pauses the outer one and appends a continuation to the
//    inner one; returning a fired Deferred takes its result (leaving it null);
//  - the continuation hands the inner result to the outer Deferred, which is
//    then processed iteratively (an explicit stack, like Twisted's `chain`).
#include "model/model.h"

#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "keys.h"

namespace model {
namespace {

using json = nlohmann::json;

// --- the error taxonomy (spec/errors.yaml) ---------------------------------

const std::map<std::string, std::string>& parents() {
  static const std::map<std::string, std::string> p = {
      {"TestError", ""},          {"TestErrorA", "TestError"},    {"TestErrorA1", "TestErrorA"},
      {"TestErrorB", "TestError"}, {"CancelledError", ""},        {"AlreadyCalledError", ""},
      {"FirstError", ""},         {"TimeoutError", ""},           {"QueueOverflow", ""},
      {"QueueUnderflow", ""}};
  return p;
}

bool is_test_error(const std::string& t) {
  return t == "TestError" || t == "TestErrorA" || t == "TestErrorA1" || t == "TestErrorB";
}

bool is_subtype(std::string type, const std::string& of) {
  while (!type.empty()) {
    if (type == of) return true;
    auto it = parents().find(type);
    if (it == parents().end()) return false;
    type = it->second;
  }
  return false;
}

json failure_of(const std::string& type, const std::string& message = "") {
  if (!parents().count(type)) throw Unsupported("unknown error type " + type);
  if (is_test_error(type)) return json{{"$failure", type}, {"message", message}};
  return json{{"$failure", type}};
}

// A $failure value as observations encode it.
json canon_failure(const json& f) {
  const std::string type = f.at("$failure").get<std::string>();
  if (type == "FirstError") {
    return json{{"$failure", "FirstError"}, {"index", f.at("index")}, {"sub", canon_failure(f.at("sub"))}};
  }
  return failure_of(type, f.contains("message") ? f["message"].get<std::string>() : "");
}

json canon_value(const json& v) {
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) out.push_back(canon_value(x));
    return out;
  }
  if (v.is_object()) {
    if (v.contains("$failure")) return canon_failure(v);
    if (v.contains("$deferred")) return v;
    if (v.contains("$object")) throw Unsupported("$object values");
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = canon_value(it.value());
    return out;
  }
  return v;
}

// A step raised this (encoded) error: propagates like a Python exception.
struct Raised {
  json failure;
};

// --- results ------------------------------------------------------------------

struct Res {
  enum Kind { value, failure, deferred } kind = value;
  json v;      // the value, or the encoded failure
  int d = -1;  // the Deferred (kind == deferred)

  static Res val(json x) { return {value, std::move(x), -1}; }
  static Res fail(json f) { return {failure, std::move(f), -1}; }
  static Res def(int i) { return {deferred, nullptr, i}; }
};

// --- handlers -----------------------------------------------------------------

struct Handler {
  enum Kind {
    user,          // a program handler {label, do, args}
    passthru,      // Twisted's passthru / _failthru: returns what it receives
    continuation,  // hands the result to the Deferred `target` waiting on this one
    list_member,   // DeferredList._cbDeferred(result, index, ok)
    chain_fire,    // target.callback / target.errback (chainDeferred)
    gather_parse,  // gatherResults' _parseDeferredListResult
  } kind = passthru;
  const json* spec = nullptr;  // user: an object with label, do, args
  int target = -1;
  int index = 0;
  bool ok = true;
};

struct Deferred {
  bool called = false;
  Res result;
  std::deque<std::pair<Handler, Handler>> callbacks;
  int paused = 0;
  bool running = false;       // running its callbacks (no re-entry)
  bool suppress = false;      // cancelled without a canceller: swallow one late result
  const json* canceller = nullptr;
  // DeferredList (and gatherResults, which is one)
  bool is_list = false;
  std::vector<int> members;
  json result_list;
  int finished = 0;
  bool fire_on_one_callback = false, fire_on_one_errback = false, consume_errors = false;
};

// A handler's body, by reference (handlers added by a body keep pointers into it).
const json& body_of(const json& h, const char* key = "do") {
  static const json empty = json::array();
  return h.contains(key) ? h[key] : empty;
}

const json& target_of(const json& s) {
  if (s.contains(props::kTargetKey)) return s[props::kTargetKey];
  if (s.contains(props::kLegacyTargetKey)) return s[props::kLegacyTargetKey];
  throw Unsupported("step has no target: " + s.dump());
}

class Machine {
 public:
  json run(const json& program) {
    if (!program.is_array()) throw Unsupported("program must be a list");
    for (std::size_t i = 0; i < program.size(); ++i) {
      try {
        step(program[i]);
      } catch (const Raised& r) {
        trace_.push_back(json{{"raised", r.failure}, {"step", i}});
      }
    }
    json final = json::object();
    for (const auto& [name, idx] : names_) final[name] = final_state(idx);
    return json{{"trace", std::move(trace_)}, {"final", std::move(final)}};
  }

 private:
  std::vector<std::unique_ptr<Deferred>> ds_;
  std::vector<std::pair<std::string, int>> names_;  // the namespace, in creation order
  json trace_ = json::array();

  Deferred& D(int i) { return *ds_[static_cast<std::size_t>(i)]; }

  int create() {
    ds_.push_back(std::make_unique<Deferred>());
    return static_cast<int>(ds_.size()) - 1;
  }
  void bind(const json& name, int idx) {
    const std::string n = name.get<std::string>();
    for (const auto& [k, v] : names_)
      if (k == n) throw Unsupported("name " + n + " created twice");
    names_.emplace_back(n, idx);
  }
  int lookup(const json& name) {
    if (!name.is_string()) throw Unsupported("a name must be a string");
    for (const auto& [k, v] : names_)
      if (k == name.get<std::string>()) return v;
    throw Unsupported("unknown name " + name.dump());
  }
  json name_of(int idx) const {
    for (const auto& [k, v] : names_)
      if (v == idx) return k;
    return nullptr;
  }

  json encode(const Res& r) const {
    if (r.kind == Res::deferred) return json{{"$deferred", name_of(r.d)}};
    return r.v;
  }
  Res decode(const json& v) {
    if (v.is_object() && v.contains("$failure")) return Res::fail(canon_failure(v));
    if (v.is_object() && v.contains("$deferred")) return Res::def(lookup(v["$deferred"]));
    return Res::val(canon_value(v));
  }
  static json make_failure(const json& s, const char* type_key) {
    return failure_of(s.at(type_key).get<std::string>(),
                      s.contains("message") ? s["message"].get<std::string>() : "");
  }

  // --- firing ---------------------------------------------------------------

  void fire(int d, Res r) {  // Deferred._startRunCallbacks
    if (r.kind == Res::deferred) throw Unsupported("callback with a Deferred");
    Deferred& x = D(d);
    if (x.called) {
      if (x.suppress) {
        x.suppress = false;
        return;
      }
      throw Raised{failure_of("AlreadyCalledError")};
    }
    x.called = true;
    x.result = std::move(r);
    run_callbacks(d);
  }

  void add(int d, Handler cb, Handler eb) {
    D(d).callbacks.emplace_back(cb, eb);
    if (D(d).called) run_callbacks(d);
  }

  // Python's recursion limit, as far as a cancel that comes back to where it
  // started is concerned (a member waiting on its own list): Twisted recurses
  // until RecursionError, which DeferredList.cancel swallows like any error.
  struct RecursionLimit {};
  int cancel_depth = 0;

  void cancel(int d) {
    if (cancel_depth == 200) throw RecursionLimit{};
    ++cancel_depth;
    try {
      cancel_once(d);
    } catch (...) {
      --cancel_depth;
      throw;
    }
    --cancel_depth;
  }

  // Deferred.cancel (and DeferredList.cancel), once.
  void cancel_once(int d) {
    if (D(d).is_list) {  // DeferredList.cancel: cancel every member, swallow their errors
      if (!D(d).called) {
        for (int m : std::vector<int>(D(d).members)) {
          try {
            cancel(m);
          } catch (const Raised&) {
          } catch (const RecursionLimit&) {
          }
        }
      }
      return;
    }
    if (!D(d).called) {
      if (D(d).canceller) {
        const json& h = *D(d).canceller;
        record_call(h, encode(Res::def(d)), true);
        run_body(body_of(h), true, Res::def(d));
      } else {
        D(d).suppress = true;
      }
      if (!D(d).called) fire(d, Res::fail(failure_of("CancelledError")));
    } else if (D(d).result.kind == Res::deferred) {
      cancel(D(d).result.d);  // waiting: forward to the awaited Deferred
    }
  }

  // Deferred._runCallbacks, iteratively over the chain of waiting Deferreds.
  void run_callbacks(int self) {
    if (D(self).running) return;
    std::vector<int> chain{self};
    while (!chain.empty()) {
      const int cur = chain.back();
      if (D(cur).paused) return;
      bool finished = true;
      while (!D(cur).callbacks.empty()) {
        auto item = D(cur).callbacks.front();
        D(cur).callbacks.pop_front();
        const Handler& h = D(cur).result.kind == Res::failure ? item.second : item.first;
        if (h.kind == Handler::continuation) {
          const int waiting = h.target;
          D(waiting).result = std::move(D(cur).result);
          D(cur).result = Res::val(nullptr);
          D(waiting).paused -= 1;
          chain.push_back(waiting);
          finished = false;
          break;
        }
        D(cur).running = true;
        Res r = call(h, D(cur).result);
        D(cur).running = false;
        D(cur).result = std::move(r);
        if (D(cur).result.kind == Res::deferred) {
          const int inner = D(cur).result.d;
          if (inner == cur) throw Unsupported("a handler returned its own Deferred");
          if (!D(inner).called || D(inner).result.kind == Res::deferred || D(inner).paused) {
            D(cur).paused += 1;
            Handler c;
            c.kind = Handler::continuation;
            c.target = cur;
            D(inner).callbacks.emplace_back(c, c);
            break;
          }
          D(cur).result = std::move(D(inner).result);
          D(inner).result = Res::val(nullptr);
        }
      }
      if (finished) chain.pop_back();
    }
  }

  // Calls one handler; an error it raises becomes a Failure result.
  Res call(const Handler& h, const Res& arg) {
    try {
      switch (h.kind) {
        case Handler::passthru:
          return arg;
        case Handler::user: {
          record_call(*h.spec, encode(arg), true);
          return run_body(body_of(*h.spec), true, arg);
        }
        case Handler::chain_fire:
          fire(h.target, arg);
          return Res::val(nullptr);
        case Handler::list_member:
          return list_member(h, arg);
        case Handler::gather_parse: {
          json out = json::array();
          for (const auto& pair : arg.v) out.push_back(pair[1]);
          return Res::val(std::move(out));
        }
        case Handler::continuation:
          break;
      }
      throw Unsupported("internal: continuation called");
    } catch (const Raised& r) {
      return Res::fail(r.failure);
    }
  }

  Res list_member(const Handler& h, const Res& r) {  // DeferredList._cbDeferred
    Deferred& l = D(h.target);
    l.result_list[static_cast<std::size_t>(h.index)] = json::array({h.ok, encode(r)});
    l.finished += 1;
    if (!l.called) {
      if (h.ok && l.fire_on_one_callback) {
        fire(h.target, Res::val(json::array({encode(r), h.index})));
      } else if (!h.ok && l.fire_on_one_errback) {
        fire(h.target, Res::fail(json{{"$failure", "FirstError"}, {"index", h.index}, {"sub", r.v}}));
      } else if (l.finished == static_cast<int>(l.result_list.size())) {
        fire(h.target, Res::val(l.result_list));
      }
    }
    if (!h.ok && D(h.target).consume_errors) return Res::val(nullptr);
    return r;
  }

  void record_call(const json& h, json arg, bool receives) {
    json e = json::object();
    e["call"] = h.at("label");
    if (receives) e["arg"] = std::move(arg);
    if (h.contains("args") && !h["args"].empty()) {
      json args = json::array();
      for (const auto& a : h["args"]) args.push_back(encode(decode(a)));
      e["args"] = std::move(args);
    }
    trace_.push_back(std::move(e));
  }

  // Runs a handler body. Returns what it returns; throws Raised when it raises.
  Res run_body(const json& body, bool has_arg, const Res& arg) {
    if (!body.is_array()) throw Unsupported("a body must be a list");
    for (const auto& a : body) {
      if (a.is_string()) {
        const std::string s = a.get<std::string>();
        if (!has_arg) throw Unsupported(s + " without a received argument");
        if (s == "returnArgument") return arg;
        if (s == "raiseArgument") {
          if (arg.kind != Res::failure) throw Unsupported("raiseArgument of a non-Failure");
          throw Raised{arg.v};
        }
        throw Unsupported("unknown action " + s);
      }
      if (a.contains("op")) {
        step(a);
        continue;
      }
      if (a.contains("return")) return decode(a["return"]);
      if (a.contains("raise")) throw Raised{make_failure(a, "raise")};
      if (a.contains("returnDeferred")) return Res::def(lookup(a["returnDeferred"]));
      if (a.contains("trap")) {
        if (!has_arg || arg.kind != Res::failure) throw Unsupported("trap of a non-Failure");
        bool match = false;
        const std::string type = arg.v.at("$failure").get<std::string>();
        for (const auto& t : a["trap"]) {
          failure_of(t.get<std::string>());  // validates the name
          if (is_subtype(type, t.get<std::string>())) match = true;
        }
        if (!match) throw Raised{arg.v};
        continue;
      }
      throw Unsupported("unknown action " + a.dump());
    }
    return Res::val(nullptr);
  }

  Handler user(const json& spec) {
    Handler h;
    h.kind = Handler::user;
    h.spec = &spec;
    return h;
  }

  // --- steps -----------------------------------------------------------------

  void step(const json& s) {
    const std::string op = s.at("op").get<std::string>();
    if (op == "mark") {
      trace_.push_back(json{{"mark", s.at("label")}});
    } else if (op == "new") {
      int d = create();
      if (s.contains("canceller")) D(d).canceller = &s["canceller"];
      bind(s.at("name"), d);
    } else if (op == "succeed") {
      int d = create();
      fire(d, decode(s.at("value")));
      bind(s.at("name"), d);
    } else if (op == "fail") {
      int d = create();
      fire(d, Res::fail(make_failure(s, "error")));
      bind(s.at("name"), d);
    } else if (op == "maybeDeferred") {
      record_call(s, nullptr, false);
      Res r;
      try {
        r = run_body(body_of(s), false, Res{});
      } catch (const Raised& e) {
        r = Res::fail(e.failure);
      }
      int d;
      if (r.kind == Res::deferred) {
        d = r.d;
      } else {
        d = create();
        fire(d, r);
      }
      bind(s.at("name"), d);
    } else if (op == "DeferredList" || op == "gatherResults") {
      const bool gather = op == "gatherResults";
      std::vector<int> members;
      for (const auto& m : s.at("members")) members.push_back(lookup(m));
      int l = create();
      D(l).is_list = true;
      D(l).members = members;
      D(l).result_list = json::array();
      for (std::size_t i = 0; i < members.size(); ++i) D(l).result_list.push_back(nullptr);
      const bool fooc = !gather && s.value("fireOnOneCallback", false);
      if (members.empty() && !fooc) fire(l, Res::val(json::array()));
      D(l).fire_on_one_callback = fooc;
      D(l).fire_on_one_errback = gather || s.value("fireOnOneErrback", false);
      D(l).consume_errors = s.value("consumeErrors", false);
      for (std::size_t i = 0; i < members.size(); ++i) {
        Handler ok, ko;
        ok.kind = ko.kind = Handler::list_member;
        ok.target = ko.target = l;
        ok.index = ko.index = static_cast<int>(i);
        ko.ok = false;
        add(members[i], ok, ko);
      }
      if (gather) {
        Handler parse;
        parse.kind = Handler::gather_parse;
        add(l, parse, Handler{});
      }
      bind(s.at("name"), l);
    } else if (op == "addCallback") {
      add(lookup(target_of(s)), user(s), Handler{});
    } else if (op == "addErrback") {
      add(lookup(target_of(s)), Handler{}, user(s));
    } else if (op == "addBoth") {
      add(lookup(target_of(s)), user(s), user(s));
    } else if (op == "addCallbacks") {
      const int d = lookup(target_of(s));
      Handler eb = s.contains("errback") ? user(s["errback"]) : Handler{};
      add(d, user(s.at("callback")), eb);
    } else if (op == "chainDeferred") {
      const int d = lookup(target_of(s));
      Handler f;
      f.kind = Handler::chain_fire;
      f.target = lookup(s.at("to"));
      add(d, f, f);
    } else if (op == "callback") {
      fire(lookup(target_of(s)), decode(s.at("value")));
    } else if (op == "errback") {
      fire(lookup(target_of(s)), Res::fail(make_failure(s, "error")));
    } else if (op == "cancel") {
      try {
        cancel(lookup(target_of(s)));
      } catch (const RecursionLimit&) {
        throw Unsupported("a cancel that recurses without a DeferredList to stop it (Twisted: RecursionError)");
      }
    } else if (op == "pause") {
      D(lookup(target_of(s))).paused += 1;
    } else if (op == "unpause") {
      const int d = lookup(target_of(s));
      D(d).paused -= 1;
      if (D(d).paused) return;
      if (D(d).called) run_callbacks(d);
    } else {
      throw Unsupported("op " + op);
    }
  }

  json final_state(int idx) {
    const Deferred& x = D(idx);
    if (!x.called) {
      json st{{"state", "pending"}};
      if (x.paused) st["paused"] = x.paused;
      return st;
    }
    if (x.result.kind == Res::deferred) {
      json st{{"state", "waiting"}, {props::kInnerKey, name_of(x.result.d)}};
      if (x.paused - 1 > 0) st["paused"] = x.paused - 1;
      return st;
    }
    if (x.paused) return json{{"state", "paused"}, {"paused", x.paused}, {"result", encode(x.result)}};
    return json{{"state", "fired"}, {"result", encode(x.result)}};
  }
};

void collect_ops(const json& v, bool& ok) {
  if (!ok) return;
  if (v.is_array()) {
    for (const auto& x : v) collect_ops(x, ok);
  } else if (v.is_object()) {
    if (v.contains("op") && v["op"].is_string() && !supported_ops().count(v["op"].get<std::string>())) {
      ok = false;
      return;
    }
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it.key() == "do" || it.key() == "canceller" || it.key() == "callback" || it.key() == "errback" ||
          it.key() == "body")
        collect_ops(it.value(), ok);
  }
}

}  // namespace

const std::set<std::string>& supported_ops() {
  static const std::set<std::string> ops = {
      "new",         "succeed",      "fail",          "maybeDeferred", "DeferredList", "gatherResults",
      "addCallback", "addErrback",   "addBoth",       "addCallbacks",  "chainDeferred", "callback",
      "errback",     "cancel",       "pause",         "unpause",       "mark"};
  return ops;
}

bool supports(const json& program) {
  bool ok = program.is_array();
  collect_ops(program, ok);
  return ok;
}

json run(const json& program) {
  try {
    return Machine().run(program);
  } catch (const json::exception& e) {
    throw Unsupported(std::string("malformed program: ") + e.what());
  }
}

}  // namespace model

// The step language of spec/README.md interpreted over KJ promises
// (Cap'n Proto's kj-async: /usr/include/kj/async.h). A third-party example of
// an in-process conformance::Implementation: it knows KJ and the step
// language, and nothing of the runner's internals. README.md in this folder
// explains every mapping decision; the short version:
//
//   Deferred D         kj::newPromiseAndFulfiller<Val>(): the fulfiller, and the
//                      promise's current *tail* kept as a kj::ForkedPromise
//   addCallback        tail = tail.addBranch().then(cb).fork()
//   addErrback         tail = tail.addBranch().catch_(eb).fork()
//   addBoth/Callbacks  tail = tail.addBranch().then(cb, eb).fork()
//   callback/errback   fulfiller->fulfill(v) / fulfiller->reject(exception)
//   a Failure          a kj::Exception whose description is "[TYPE] message"
//   maybeDeferred      kj::evalNow(f)
//   gatherResults      kj::joinPromises(branches of the members' tails)
//
// KJ runs continuations from its event loop, never nested inside fulfill() or
// then(): after every top-level step the loop is run to quiescence
// (WaitScope::poll()), so observations compare step by step; `synchronous` is
// not declared.
#include "kj_adapter.h"

#include "conformance/program_fields.h"

#include <kj/async.h>
#include <kj/exception.h>

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#ifndef KJ_CONFORMANCE_KJ_VERSION
#define KJ_CONFORMANCE_KJ_VERSION ""
#endif

namespace kj_conformance {
namespace {

using conformance::ImplementationInfo;
using conformance::Outcome;
using conformance::ProgramError;
using conformance::field;
using conformance::optionalString;
using conformance::stringField;
using json = nlohmann::json;

// What travels down a KJ promise chain. KJ carries failures out of band, as
// kj::Exception, so a Val is always a plain JSON value (never a $failure).
struct Val {
  json v;
};
using P = kj::Promise<Val>;


// A case KJ has no counterpart for at all: reported as `skipped`.
struct Declined : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --- Errors. KJ has one exception type (kj::Exception, with a coarse
// Type: FAILED, OVERLOADED, DISCONNECTED, UNIMPLEMENTED) and no subclasses, so
// the spec's error types travel as a tag in the description: "[TestErrorA] boom".
// trap() walks the test error hierarchy of spec/errors.yaml by tag.

const std::map<std::string, std::string> kParent = {
    {"TestError", ""}, {"TestErrorA", "TestError"}, {"TestErrorA1", "TestErrorA"}, {"TestErrorB", "TestError"}};
// Library errors a program may create ({$failure: CancelledError} as a value):
// observed by type alone, like every library error.
const std::set<std::string> kLibraryErrors = {"CancelledError", "AlreadyCalledError", "TimeoutError"};

kj::Exception makeException(const std::string& type, const std::string& message) {
  if (!kParent.count(type) && !kLibraryErrors.count(type))
    throw ProgramError("cannot create an error of type '" + type + "'");
  std::string text = "[" + type + "] " + message;
  return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::heapString(text.c_str()));
}

// The tag of an exception this adapter made ("" for any other: KJ's own).
std::string tagOf(const kj::Exception& e, std::string* message = nullptr) {
  const std::string d = e.getDescription().cStr();
  const auto close = d.find("] ");
  if (d.empty() || d[0] != '[' || close == std::string::npos) return {};
  std::string tag = d.substr(1, close - 1);
  if (!kParent.count(tag) && !kLibraryErrors.count(tag)) return {};
  if (message) *message = d.substr(close + 2);
  return tag;
}

bool exceptionIs(const kj::Exception& e, const std::string& type) {
  if (!kParent.count(type) && !kLibraryErrors.count(type)) throw ProgramError("unknown error type '" + type + "'");
  for (std::string t = tagOf(e); !t.empty(); t = kParent.count(t) ? kParent.at(t) : std::string())
    if (t == type) return true;
  return false;
}

const char* typeName(kj::Exception::Type t) {
  switch (t) {
    case kj::Exception::Type::FAILED: return "FAILED";
    case kj::Exception::Type::OVERLOADED: return "OVERLOADED";
    case kj::Exception::Type::DISCONNECTED: return "DISCONNECTED";
    case kj::Exception::Type::UNIMPLEMENTED: return "UNIMPLEMENTED";
  }
  return "?";
}

json encodeException(const kj::Exception& e) {
  std::string message;
  const std::string tag = tagOf(e, &message);
  if (kParent.count(tag)) return {{"$failure", tag}, {"message", message}};
  if (!tag.empty()) return {{"$failure", tag}};  // library errors: type only
  // KJ's own exceptions, e.g. "PromiseFulfiller was destroyed without fulfilling the promise."
  return {{"$failure", std::string("Other:kj::Exception(") + typeName(e.getType()) + ")"},
          {"message", e.getDescription().cStr()}};
}

bool isFailure(const json& v) { return v.is_object() && v.contains("$failure"); }

// A plain value: KJ has no Failure or promise *values* (a failure is an
// exception, a promise returned from a continuation is adopted).
void checkPlain(const json& v) {
  if (v.is_object()) {
    if (v.contains("$failure")) throw ProgramError("a Failure nested inside a value has no KJ counterpart");
    if (v.contains("$deferred") || v.contains("$object"))
      throw ProgramError("a promise inside a value has no KJ counterpart");
    for (const auto& [k, x] : v.items()) checkPlain(x);
  } else if (v.is_array()) {
    for (const auto& x : v) checkPlain(x);
  }
}

// One name of the program: the fulfiller (only for `new`) and the tail of its chain.
struct Named {
  kj::Own<kj::PromiseFulfiller<Val>> fulfiller;
  std::optional<kj::ForkedPromise<Val>> tail;
  // The name a handler of this chain returned, until a later handler runs:
  // reported as `waiting` on it while the tail is still pending.
  std::optional<std::string> returned;
};

// What a handler received: a value, an exception, or nothing (maybeDeferred's function).
struct Arg {
  const Val* value = nullptr;
  const kj::Exception* error = nullptr;
};

class Run {
 public:
  explicit Run(kj::WaitScope& ws) : waitScope(ws) {}

  kj::WaitScope& waitScope;
  json trace = json::array();
  std::map<std::string, Named> names;
  std::string programError;  // set when a handler body could not be run
  std::string declined;      // set when a step has no KJ counterpart
  bool tornDown = false;     // after the program: continuations do nothing

  Named& lookup(const std::string& name) {
    auto it = names.find(name);
    if (it == names.end()) throw ProgramError("no Deferred named '" + name + "'");
    return it->second;
  }
  Named& lookup(const json& step, const char* fieldName) { return lookup(stringField(step, fieldName)); }

  void define(const json& step, Named n) {
    const std::string name = stringField(step, "name");
    if (!names.emplace(name, std::move(n)).second) throw ProgramError("name '" + name + "' is already defined");
  }

  static Named fromPromise(P&& p) {
    Named n;
    n.tail = p.fork();  // a ForkHub evaluates its promise eagerly: handlers run without a consumer
    return n;
  }

  // --- handlers --------------------------------------------------------------

  // Calls a handler (or maybeDeferred's function): records the call, runs the body.
  P call(const json& handler, const std::string& owner, Arg arg, const json* args = nullptr) {
    if (tornDown) return Val{nullptr};
    json event = {{"call", optionalString(handler, "label")}};
    if (arg.value) event["arg"] = arg.value->v;
    if (arg.error) event["arg"] = encodeException(*arg.error);
    if (args && !args->empty()) event["args"] = *args;
    trace.push_back(std::move(event));
    if (auto it = names.find(owner); it != names.end()) it->second.returned.reset();
    try {
      return runBody(handler, owner, arg);
    } catch (const ProgramError& e) {
      if (programError.empty()) programError = e.what();
      throw;  // KJ turns it into a rejection; run() reports the case as errored
    } catch (const Declined& e) {
      if (declined.empty()) declined = e.what();
      throw;
    }
  }

  P runBody(const json& handler, const std::string& owner, Arg arg) {
    auto body = handler.find("do");
    if (body == handler.end()) return Val{nullptr};
    for (const json& action : *body) {
      if (action.is_string()) {
        const std::string& name = action.get_ref<const std::string&>();
        if (name == "returnArgument") {
          if (arg.value) return Val{arg.value->v};
          if (arg.error) return P(kj::cp(*arg.error));  // returned, not thrown: stays a failure
          throw ProgramError("returnArgument in a function that receives no argument");
        }
        if (name == "raiseArgument") {
          if (!arg.error) throw ProgramError("raiseArgument needs a received Failure");
          throw kj::cp(*arg.error);
        }
        throw ProgramError("unknown action '" + name + "'");
      }
      if (!action.is_object()) throw ProgramError("an action must be a string or an object");
      if (action.contains("op")) {
        step(action);  // nested step: a kj::Exception it throws ends the handler
        continue;
      }
      if (auto it = action.find("return"); it != action.end()) {
        if (isFailure(*it)) return P(makeException(stringField(*it, "$failure"), optionalString(*it, "message")));
        checkPlain(*it);
        return Val{*it};
      }
      if (auto it = action.find("raise"); it != action.end()) {
        if (!it->is_string()) throw ProgramError("raise needs a type name");
        throw makeException(it->get<std::string>(), optionalString(action, "message"));
      }
      if (action.contains("returnDeferred")) {
        const std::string inner = stringField(action, "returnDeferred");
        P branch = lookup(inner).tail->addBranch();  // KJ adopts a returned promise
        if (auto it = names.find(owner); it != names.end()) it->second.returned = inner;
        return branch;
      }
      if (auto it = action.find("trap"); it != action.end()) {
        if (!arg.error) throw ProgramError("trap needs a received Failure");
        bool trapped = false;
        for (const json& type : *it) trapped = trapped || exceptionIs(*arg.error, type.get<std::string>());
        if (!trapped) throw kj::cp(*arg.error);  // the same failure stays on the error path
        continue;
      }
      throw ProgramError("unknown action " + action.dump());
    }
    return Val{nullptr};
  }

  static void noExtraArgs(const json& handler) {
    auto it = handler.find("args");
    if (it != handler.end() && !it->empty())
      throw ProgramError("extra handler arguments: KJ's then() passes the result alone");
  }

  // The continuation of a callback / errback; they look names up when called,
  // so that dropping a name really lets go of it.
  auto onValue(const json& handler, const std::string& owner) {
    noExtraArgs(handler);
    return [this, h = &handler, owner](Val&& v) -> P { return call(*h, owner, Arg{&v, nullptr}); };
  }
  auto onError(const json& handler, const std::string& owner) {
    noExtraArgs(handler);
    return [this, h = &handler, owner](kj::Exception&& e) -> P { return call(*h, owner, Arg{nullptr, &e}); };
  }

  // --- steps -----------------------------------------------------------------

  void step(const json& s) {
    const std::string op = stringField(s, "op");
    if (op == "new") {
      if (s.contains("canceller")) throw ProgramError("cancellers have no KJ counterpart (cancel is not declared)");
      auto paf = kj::newPromiseAndFulfiller<Val>();
      Named n = fromPromise(kj::mv(paf.promise));
      n.fulfiller = kj::mv(paf.fulfiller);
      define(s, std::move(n));
    } else if (op == "succeed") {
      const json v = s.value("value", json());
      define(s, fromPromise(isFailure(v) ? P(makeException(stringField(v, "$failure"), optionalString(v, "message")))
                                         : (checkPlain(v), P(Val{v}))));
    } else if (op == "fail") {
      define(s, fromPromise(P(makeException(stringField(s, "error"), optionalString(s, "message")))));
    } else if (op == "addCallback") {
      const std::string owner = stringField(s, "target");
      Named& d = lookup(owner);
      d.tail = d.tail->addBranch().then(onValue(s, owner)).fork();
    } else if (op == "addErrback") {
      const std::string owner = stringField(s, "target");
      Named& d = lookup(owner);
      d.tail = d.tail->addBranch().catch_(onError(s, owner)).fork();
    } else if (op == "addBoth") {
      const std::string owner = stringField(s, "target");
      Named& d = lookup(owner);
      d.tail = d.tail->addBranch().then(onValue(s, owner), onError(s, owner)).fork();
    } else if (op == "addCallbacks") {
      const std::string owner = stringField(s, "target");
      Named& d = lookup(owner);
      d.tail = d.tail->addBranch().then(onValue(field(s, "callback"), owner), onError(field(s, "errback"), owner)).fork();
    } else if (op == "chainDeferred") {
      // Twisted: d.addCallbacks(e.callback, e.errback); both return None.
      const std::string to = stringField(s, "to");
      if (!lookup(to).fulfiller) throw ProgramError("chainDeferred to '" + to + "', which has no fulfiller");
      Named& d = lookup(s, "target");
      d.tail = d.tail->addBranch()
                   .then(
                       [this, to](Val&& v) -> P {
                         if (auto it = names.find(to); it != names.end() && it->second.fulfiller) it->second.fulfiller->fulfill(kj::mv(v));
                         return Val{nullptr};
                       },
                       [this, to](kj::Exception&& e) -> P {
                         if (auto it = names.find(to); it != names.end() && it->second.fulfiller) it->second.fulfiller->reject(kj::mv(e));
                         return Val{nullptr};
                       })
                   .fork();
    } else if (op == "callback") {
      Named& d = lookup(s, "target");
      const json v = s.value("value", json());
      if (!isFailure(v)) checkPlain(v);
      // A promise without a fulfiller (succeed, fail, gatherResults,
      // maybeDeferred) cannot be resolved from outside: nothing happens.
      // A fulfilled fulfiller ignores later calls (no AlreadyCalledError).
      if (!d.fulfiller) return;
      if (isFailure(v)) d.fulfiller->reject(makeException(stringField(v, "$failure"), optionalString(v, "message")));
      else d.fulfiller->fulfill(Val{v});
    } else if (op == "errback") {
      Named& d = lookup(s, "target");
      kj::Exception e = makeException(stringField(s, "error"), optionalString(s, "message"));
      if (d.fulfiller) d.fulfiller->reject(kj::mv(e));
    } else if (op == "maybeDeferred") {
      const std::string name = stringField(s, "name");
      auto args = s.find("args");
      const json* extra = args != s.end() ? &*args : nullptr;
      // evalNow runs the function at once and turns a throw into a broken promise.
      P p = kj::evalNow([this, &s, name, extra]() -> P { return call(s, name, Arg{}, extra); });
      define(s, fromPromise(kj::mv(p)));
    } else if (op == "gatherResults") {
      if (s.value("consumeErrors", false))
        throw Declined("gatherResults consumeErrors: kj::joinPromises cannot consume its members' failures");
      const json& members = field(s, "members");
      auto builder = kj::heapArrayBuilder<P>(members.size());
      for (const json& m : members) builder.add(lookup(m.get<std::string>()).tail->addBranch());
      P joined = kj::joinPromises(builder.finish()).then([](kj::Array<Val>&& values) -> P {
        json list = json::array();
        for (auto& v : values) list.push_back(v.v);
        return Val{std::move(list)};
      });
      define(s, fromPromise(kj::mv(joined)));
    } else if (op == "drop") {
      // The program lets go of the promise and its fulfiller. KJ then rejects
      // the promise ("PromiseFulfiller was destroyed without fulfilling the
      // promise"): continuations still attached elsewhere observe that.
      const std::string name = stringField(s, "target");
      if (!names.erase(name)) throw ProgramError("no Deferred named '" + name + "'");
    } else if (op == "mark") {
      trace.push_back({{"mark", stringField(s, "label")}});
    } else {
      throw ProgramError("unsupported op '" + op + "' (no KJ mapping; its feature is not declared)");
    }
  }

  json finalStates() {
    json states = json::object();
    for (auto& [name, n] : names) {
      P branch = n.tail->addBranch();
      json state;
      if (branch.poll(waitScope)) {
        try {
          Val v = branch.wait(waitScope);
          state = {{"state", "fired"}, {"result", std::move(v.v)}};
        } catch (const kj::Exception& e) {
          state = {{"state", "fired"}, {"result", encodeException(e)}};
        }
      } else if (n.returned) {
        state = {{"state", "waiting"}, {"inner", names.count(*n.returned) ? json(*n.returned) : json(nullptr)}};
      } else {
        state = {{"state", "pending"}};
      }
      states[name] = std::move(state);
    }
    return states;
  }
};

Outcome execute(Run& run, const json& program) {
  for (std::size_t i = 0; i < program.size(); ++i) {
    try {
      if (!program[i].is_object()) throw ProgramError("a step must be an object");
      run.step(program[i]);
    } catch (const ProgramError& e) {
      return Outcome::errored("step " + std::to_string(i) + ": " + e.what());
    } catch (const Declined& e) {
      return Outcome::skipped(e.what());
    } catch (const kj::Exception& e) {
      if (run.programError.empty() && run.declined.empty())
        run.trace.push_back({{"raised", encodeException(e)}, {"step", i}});
    }
    // KJ never runs a continuation inside fulfill() or then(): run the event
    // loop until nothing is left to do before the next top-level step.
    run.waitScope.poll();
    if (!run.programError.empty()) return Outcome::errored("step " + std::to_string(i) + ": " + run.programError);
    if (!run.declined.empty()) return Outcome::skipped(run.declined);
  }
  json final = run.finalStates();
  return Outcome::observed({{"trace", std::move(run.trace)}, {"final", std::move(final)}});
}

class KjImplementation final : public conformance::Implementation {
 public:
  ImplementationInfo info() override {
    return {"kj",
            KJ_CONFORMANCE_KJ_VERSION,
            "c++",
            "https://capnproto.org/cxxrpc.html#kj-concurrency-framework",
            {"core", "final-state", "chain-deferred", "gather", "maybe-deferred"}};
  }

  Outcome run(const std::string& /*case_id*/, const json& program) override {
    if (!program.is_array()) return Outcome::errored("the program must be a list of steps");
    // A fresh event loop per case: nothing carries over.
    kj::EventLoop loop;
    kj::WaitScope waitScope(loop);
    Outcome outcome;
    {
      Run run(waitScope);
      outcome = execute(run, program);
      // Tear down: the promises (and their continuations) go before the loop;
      // whatever that wakes up runs now, recording nothing.
      run.tornDown = true;
      run.names.clear();
      waitScope.poll();
    }
    return outcome;
  }
};

}  // namespace

std::unique_ptr<conformance::Implementation> make_kj_implementation() { return std::make_unique<KjImplementation>(); }

}  // namespace kj_conformance

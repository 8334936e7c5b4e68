// The step language of spec/README.md, interpreted over the public API of the
// bundled C++ reference (deferred::deferred). This is what a third-party C++
// library's in-process adapter looks like: it knows the library's API and the
// step language, and nothing of the runner's internals.
#include "conformance/reference_adapter.h"
#include "conformance/program_fields.h"

#include <deferred/deferred.h>
#include <deferred/coroutine.h>
#include <deferred/list.h>
#include <deferred/lock.h>
#include <deferred/queue.h>
#include <deferred/timeout.h>

#include <memory>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace conformance {
namespace {

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using json = nlohmann::json;

// Field names of the step language that name the object a step acts on and
// the Deferred a waiting Deferred waits for.
constexpr const char* kTarget = "target";
constexpr const char* kInner = "inner";

// --- The spec's test errors: TestError <- TestErrorA <- TestErrorA1, TestError <- TestErrorB.

struct TestError : std::runtime_error {
  using std::runtime_error::runtime_error;
  virtual const char* kind() const noexcept { return "TestError"; }
};
struct TestErrorA : TestError {
  using TestError::TestError;
  const char* kind() const noexcept override { return "TestErrorA"; }
};
struct TestErrorA1 : TestErrorA {
  using TestErrorA::TestErrorA;
  const char* kind() const noexcept override { return "TestErrorA1"; }
};
struct TestErrorB : TestError {
  using TestError::TestError;
  const char* kind() const noexcept override { return "TestErrorB"; }
};


Failure makeFailure(const std::string& type, const std::string& message) {
  if (type == "TestError") return Failure(TestError(message));
  if (type == "TestErrorA") return Failure(TestErrorA(message));
  if (type == "TestErrorA1") return Failure(TestErrorA1(message));
  if (type == "TestErrorB") return Failure(TestErrorB(message));
  if (type == "CancelledError") return Failure(deferred::CancelledError());
  if (type == "AlreadyCalledError") return Failure(deferred::AlreadyCalledError());
  if (type == "SelfChainError") return Failure(deferred::SelfChainError());
  if (type == "TimeoutError") return Failure(deferred::TimeoutError(0));
  if (type == "QueueOverflow") return Failure(deferred::QueueOverflow());
  if (type == "QueueUnderflow") return Failure(deferred::QueueUnderflow());
  throw ProgramError("cannot create an error of type '" + type + "'");
}

[[noreturn]] void raiseError(const std::string& type, const std::string& message) {
  makeFailure(type, message).raise();
}

// Whether the failure's error is `type` or one of its subtypes.
bool failureIs(const Failure& failure, const std::string& type) {
  if (type == "TestError") return failure.check<TestError>().has_value();
  if (type == "TestErrorA") return failure.check<TestErrorA>().has_value();
  if (type == "TestErrorA1") return failure.check<TestErrorA1>().has_value();
  if (type == "TestErrorB") return failure.check<TestErrorB>().has_value();
  if (type == "CancelledError") return failure.check<deferred::CancelledError>().has_value();
  if (type == "AlreadyCalledError") return failure.check<deferred::AlreadyCalledError>().has_value();
  if (type == "SelfChainError") return failure.check<deferred::SelfChainError>().has_value();
  if (type == "FirstError") return failure.check<deferred::FirstError>().has_value();
  if (type == "TimeoutError") return failure.check<deferred::TimeoutError>().has_value();
  if (type == "QueueOverflow") return failure.check<deferred::QueueOverflow>().has_value();
  if (type == "QueueUnderflow") return failure.check<deferred::QueueUnderflow>().has_value();
  throw ProgramError("unknown error type '" + type + "'");
}

json encodeFailure(const Failure& failure) {
  try {
    failure.raise();
  } catch (const TestError& e) {
    return {{"$failure", e.kind()}, {"message", e.what()}};
  } catch (const deferred::AlreadyCalledError&) {
    return {{"$failure", "AlreadyCalledError"}};
  } catch (const deferred::CancelledError&) {
    return {{"$failure", "CancelledError"}};
  } catch (const deferred::SelfChainError&) {
    return {{"$failure", "SelfChainError"}};
  } catch (const deferred::TimeoutError&) {
    return {{"$failure", "TimeoutError"}};
  } catch (const deferred::QueueOverflow&) {
    return {{"$failure", "QueueOverflow"}};
  } catch (const deferred::QueueUnderflow&) {
    return {{"$failure", "QueueUnderflow"}};
  } catch (const deferred::FirstError& e) {
    return {{"$failure", "FirstError"}, {"index", e.index()}, {"sub", encodeFailure(e.subFailure())}};
  } catch (...) {
  }
  return {{"$failure", "Other:" + failure.typeName()}, {"message", failure.message()}};
}

// One case's run: the named objects, the trace, the pending program error.
class Run {
 public:
  json trace = json::array();
  std::map<std::string, Deferred> deferreds;
  // The case's deterministic clock (addTimeout, advance).
  std::unique_ptr<deferred::ManualClock> clock = std::make_unique<deferred::ManualClock>();

  // The clock; a ProgramError once it is going with the case (a handler
  // run by the teardown of its timers; found by the scenario fuzzer).
  deferred::ManualClock& caseClock() const {
    if (!clock) throw ProgramError("the case's clock is gone: the case is being torn down");
    return *clock;
  }
  bool recording = true;
  std::string programError;  // set when a handler body could not be run

  Deferred& lookup(const json& step, const char* fieldName = kTarget) {
    std::string name = stringField(step, fieldName);
    auto it = deferreds.find(name);
    if (it == deferreds.end()) throw ProgramError("no Deferred named '" + name + "'");
    return it->second;
  }

  // Locks and semaphores (a DeferredLock is a DeferredSemaphore), and queues.
  std::map<std::string, deferred::DeferredSemaphore> primitives;
  std::map<std::string, deferred::DeferredQueue> queues;
  std::set<std::string> lockNames;  // the primitives that are DeferredLocks

  std::string newName(const json& step) {
    std::string name = stringField(step, "name");
    if (deferreds.count(name) || primitives.count(name) || queues.count(name))
      throw ProgramError("name '" + name + "' is already defined");
    return name;
  }

  void define(const json& step, Deferred d) { deferreds.emplace(newName(step), std::move(d)); }

  deferred::DeferredSemaphore& primitive(const json& step) {
    std::string name = stringField(step, kTarget);
    auto it = primitives.find(name);
    if (it == primitives.end()) throw ProgramError("no DeferredLock or DeferredSemaphore named '" + name + "'");
    return it->second;
  }

  deferred::DeferredQueue& queue(const json& step) {
    std::string name = stringField(step, kTarget);
    auto it = queues.find(name);
    if (it == queues.end()) throw ProgramError("no DeferredQueue named '" + name + "'");
    return it->second;
  }

  static std::optional<std::size_t> optionalCount(const json& step, const char* name) {
    auto it = step.find(name);
    if (it == step.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer() || it->get<long long>() < 0)
      throw ProgramError(std::string("field '") + name + "' must be a count or null");
    return static_cast<std::size_t>(it->get<long long>());
  }

  // A function run by maybeDeferred or DeferredLock.run: no received result.
  Value callFunction(const json& s) {
    auto args = s.find("args");
    return call(s, nullptr, args != s.end() && !args->empty() ? &*args : nullptr);
  }

  json objectName(const deferred::DeferredSemaphore& p) const {
    for (const auto& [name, candidate] : primitives)
      if (candidate.sameAs(p)) return {{"$object", name}};
    return {{"$object", nullptr}};
  }

  json nameOf(const Deferred& d) const {
    for (const auto& [name, candidate] : deferreds)
      if (candidate.sameAs(d)) return name;
    return nullptr;
  }

  Value decode(const json& value) const {
    if (value.is_null()) return Value();
    if (value.is_object() && value.contains("$failure")) {
      return Value(makeFailure(stringField(value, "$failure"), optionalString(value, "message")));
    }
    return Value(json(value));
  }

  json encode(const Value& value) const {
    if (value.isNull()) return nullptr;
    if (const json* j = value.getIf<json>()) return *j;
    if (const Failure* f = value.getIf<Failure>()) return encodeFailure(*f);
    if (const Deferred* d = value.getIf<Deferred>()) return {{"$deferred", nameOf(*d)}};
    // Twisted's tuples and lists are JSON lists.
    if (const auto* list = value.getIf<deferred::ListResult>()) {
      json out = json::array();
      for (const deferred::ListEntry& e : *list) out.push_back({e.success, encode(e.result)});
      return out;
    }
    if (const auto* p = value.getIf<deferred::DeferredLock>()) return objectName(*p);
    if (const auto* p = value.getIf<deferred::DeferredSemaphore>()) return objectName(*p);
    if (const auto* first = value.getIf<deferred::FirstResult>()) {
      return {encode(first->result), first->index};
    }
    if (const auto* values = value.getIf<deferred::ValueList>()) {
      json out = json::array();
      for (const Value& v : *values) out.push_back(encode(v));
      return out;
    }
    return {{"$unencodable", value.typeName()}};
  }

  void recordCall(const json& handler, const Value* arg, const json* args) {
    json event = {{"call", optionalString(handler, "label")}};
    if (arg) event["arg"] = encode(*arg);
    if (args && !args->empty()) event["args"] = *args;
    trace.push_back(std::move(event));
  }

  // Runs a handler body; `arg` is the received result (null for functions
  // that receive none). Returns what the body returns.
  Value runBody(const json& handler, Value* arg) {
    auto it = handler.find("do");
    if (it == handler.end()) return Value();
    for (const json& action : *it) runAction(action, arg);
    return Value();
  }

  // A body ends with the first action that returns or raises; runAction
  // signals "return" by throwing Return so the loop above stays simple.
  struct Return {
    Value value;
  };

  Value call(const json& handler, Value* arg, const json* args) {
    recordCall(handler, arg, args);
    try {
      return runBody(handler, arg);
    } catch (Return& r) {
      return std::move(r.value);
    } catch (const ProgramError& e) {
      programError = e.what();
      throw;
    }
  }

  void runAction(const json& action, Value* arg) {
    if (action.is_string()) {
      const std::string& name = action.get_ref<const std::string&>();
      if (name == "returnArgument") {
        if (!arg) throw ProgramError("returnArgument in a function that receives no argument");
        throw Return{std::move(*arg)};
      }
      if (name == "raiseArgument") {
        const Failure* f = arg ? arg->getIf<Failure>() : nullptr;
        if (!f) throw ProgramError("raiseArgument needs a received Failure");
        f->raise();
      }
      throw ProgramError("unknown action '" + name + "'");
    }
    if (!action.is_object()) throw ProgramError("an action must be a string or an object");
    if (action.contains("op")) {
      step(action);
      return;
    }
    if (auto it = action.find("return"); it != action.end()) throw Return{decode(*it)};
    if (auto it = action.find("raise"); it != action.end()) {
      raiseError(it->get<std::string>(), optionalString(action, "message"));
    }
    if (auto it = action.find("returnDeferred"); it != action.end()) {
      throw Return{Value(lookup(action, "returnDeferred"))};
    }
    if (auto it = action.find("trap"); it != action.end()) {
      const Failure* f = arg ? arg->getIf<Failure>() : nullptr;
      if (!f) throw ProgramError("trap needs a received Failure");
      for (const json& type : *it)
        if (failureIs(*f, type.get<std::string>())) return;
      throw Failure(*f);  // the same Failure stays on the error path
    }
    throw ProgramError("unknown action " + action.dump());
  }

  // Handlers stored in the chain: they look objects up by name when called,
  // so that dropping a name really releases the Deferred.
  struct Handler {
    Run* run;
    const json* spec;
    Value operator()(Value&& result) const { return run->call(*spec, &result, nullptr); }
  };
  struct HandlerWithArgs {
    Run* run;
    const json* spec;
    Value operator()(Value&& result, const json& args) const {
      return run->call(*spec, &result, &args);
    }
  };
  struct Canceller {
    Run* run;
    const json* spec;
    void operator()(Deferred& d) const {
      Value self(d);
      run->call(*spec, &self, nullptr);
    }
  };

  template <class Add>
  void addHandler(const json& handler, Add&& add) {
    auto args = handler.find("args");
    if (args != handler.end() && !args->empty()) {
      add(deferred::withArgs(HandlerWithArgs{this, &handler}, *args));
    } else {
      add(Handler{this, &handler});
    }
  }

  std::vector<Deferred> members(const json& s) {
    const json& names = field(s, "members");
    if (!names.is_array()) throw ProgramError("field 'members' must be a list of names");
    std::vector<Deferred> out;
    for (const json& name : names) {
      if (!name.is_string()) throw ProgramError("field 'members' must be a list of names");
      auto it = deferreds.find(name.get<std::string>());
      if (it == deferreds.end()) throw ProgramError("no Deferred named '" + name.get<std::string>() + "'");
      out.push_back(it->second);
    }
    return out;
  }

  static bool flag(const json& s, const char* name) {
    auto it = s.find(name);
    if (it == s.end()) return false;
    if (!it->is_boolean()) throw ProgramError(std::string("field '") + name + "' must be true or false");
    return it->get<bool>();
  }

  // A coroutine BODY as a real C++ coroutine: awaits what the body says.
  Deferred runCoroutine(const json* body) {
    try {
      for (const json& action : *body) {
        if (action.is_object() && action.value("op", "") == "await") {
          // A reference, not a handle: the frame holds no handle to the
          // awaited Deferred (which holds the frame), so dropping it destroys
          // the suspended coroutine instead of leaking both.
          Deferred& target = lookup(action);
          std::string label = stringField(action, "label");
          std::vector<std::string> catches;  // checked before awaiting, as the driver does
          if (auto c = action.find("catch"); c != action.end()) {
            if (!c->is_array()) throw ProgramError("'catch' must be a list of error types");
            for (const json& type : *c) {
              if (!type.is_string()) throw ProgramError("'catch' must be a list of error types");
              catches.push_back(type.get<std::string>());
              (void)failureIs(Failure(TestError("")), catches.back());  // unknown: ProgramError
            }
          }
          Value got;
          try {
            got = co_await target;
          } catch (...) {
            got = Value(Failure::current());
          }
          if (recording) trace.push_back({{"call", label}, {"arg", encode(got)}});
          if (const Failure* f = got.getIf<Failure>()) {
            bool caught = false;
            for (const std::string& type : catches) caught = caught || failureIs(*f, type);
            if (!caught) f->raise();
          }
          continue;
        }
        try {
          runAction(action, nullptr);
        } catch (Return& r) {
          co_return std::move(r.value);
        }
      }
    } catch (const ProgramError& e) {
      programError = e.what();
    }
    co_return Value();
  }

  void step(const json& s) {
    const std::string op = stringField(s, "op");
    if (op == "new") {
      auto canceller = s.find("canceller");
      define(s, canceller == s.end() ? Deferred() : Deferred(Canceller{this, &*canceller}));
    } else if (op == "succeed") {
      define(s, deferred::succeed(decode(s.value("value", json()))));
    } else if (op == "fail") {
      define(s, deferred::fail(makeFailure(stringField(s, "error"), optionalString(s, "message"))));
    } else if (op == "maybeDeferred") {
      define(s, deferred::maybeDeferred([this, &s] { return callFunction(s); }));
    } else if (op == "addCallback") {
      Deferred& d = lookup(s);
      addHandler(s, [&](auto&& h) { d.addCallback(std::move(h)); });
    } else if (op == "addErrback") {
      Deferred& d = lookup(s);
      addHandler(s, [&](auto&& h) { d.addErrback(std::move(h)); });
    } else if (op == "addBoth") {
      Deferred& d = lookup(s);
      addHandler(s, [&](auto&& h) { d.addBoth(std::move(h)); });
    } else if (op == "addCallbacks") {
      Deferred& d = lookup(s);
      const json& cb = field(s, "callback");
      const json& eb = field(s, "errback");
      addHandler(cb, [&](auto&& callback) {
        addHandler(eb, [&](auto&& errback) { d.addCallbacks(std::move(callback), std::move(errback)); });
      });
    } else if (op == "DeferredList") {
      deferred::ListOptions options;
      options.fireOnOneCallback = flag(s, "fireOnOneCallback");
      options.fireOnOneErrback = flag(s, "fireOnOneErrback");
      options.consumeErrors = flag(s, "consumeErrors");
      define(s, deferred::deferredList(members(s), options));
    } else if (op == "gatherResults") {
      define(s, deferred::gatherResults(members(s), flag(s, "consumeErrors")));
    } else if (op == "addTimeout") {
      Deferred& d = lookup(s);
      const json& seconds = field(s, "seconds");
      if (!seconds.is_number()) throw ProgramError("field 'seconds' must be a number");
      deferred::OnTimeoutCancel convert;
      if (auto h = s.find("onTimeoutCancel"); h != s.end()) {
        if (h->contains("args")) throw ProgramError("onTimeoutCancel takes no args (it receives the timeout)");
        convert = [this, handler = &*h, seconds](Value result, double) {
          json args = json::array({seconds});
          return call(*handler, &result, &args);
        };
      }
      deferred::addTimeout(d, seconds.get<double>(), caseClock(), std::move(convert));
    } else if (op == "advance") {
      const json& seconds = field(s, "seconds");
      if (!seconds.is_number()) throw ProgramError("field 'seconds' must be a number");
      caseClock().advance(seconds.get<double>());
    } else if (op == "DeferredLock") {
      std::string name = newName(s);
      primitives.emplace(name, deferred::DeferredLock());
      lockNames.insert(name);
    } else if (op == "DeferredSemaphore") {
      const json& tokens = field(s, "tokens");
      if (!tokens.is_number_integer()) throw ProgramError("field 'tokens' must be an integer");
      std::string name = newName(s);
      primitives.emplace(name, deferred::DeferredSemaphore(tokens.get<int>()));
    } else if (op == "DeferredQueue") {
      std::string name = newName(s);
      queues.emplace(name, deferred::DeferredQueue(optionalCount(s, "size"), optionalCount(s, "backlog")));
    } else if (op == "acquire") {
      define(s, primitive(s).acquire());
    } else if (op == "release") {
      primitive(s).release();
    } else if (op == "run") {
      define(s, primitive(s).run([this, &s] { return callFunction(s); }));
    } else if (op == "put") {
      queue(s).put(decode(field(s, "value")));
    } else if (op == "get") {
      define(s, queue(s).get());
    } else if (op == "coroutine") {
      const json& body = field(s, "body");
      if (!body.is_array()) throw ProgramError("field 'body' must be a list of actions");
      define(s, runCoroutine(&body));
    } else if (op == "chainDeferred") {
      Deferred other = lookup(s, "to");
      lookup(s).chainDeferred(std::move(other));
    } else if (op == "callback") {
      lookup(s).callback(decode(s.value("value", json())));
    } else if (op == "errback") {
      lookup(s).errback(makeFailure(stringField(s, "error"), optionalString(s, "message")));
    } else if (op == "cancel") {
      lookup(s).cancel();
    } else if (op == "pause") {
      lookup(s).pause();
    } else if (op == "unpause") {
      lookup(s).unpause();
    } else if (op == "drop") {
      std::string name = stringField(s, kTarget);
      auto it = deferreds.find(name);
      if (it == deferreds.end()) throw ProgramError("no Deferred named '" + name + "'");
      Deferred released = std::move(it->second);
      deferreds.erase(it);
      // `released` goes here: an unhandled failure is reported now.
    } else if (op == "mark") {
      trace.push_back({{"mark", stringField(s, "label")}});
    } else {
      throw ProgramError("unsupported op '" + op + "'");
    }
  }

  json finalStates() const {
    json states = json::object();
    for (const auto& [name, d] : deferreds) {
      json state;
      int userPauses = d.paused();
      if (!d.called()) {
        state = {{"state", "pending"}};
      } else if (d.isWaiting()) {
        state = {{"state", "waiting"}, {kInner, nameOf(*d.waitingOn())}};
        userPauses -= 1;
      } else {
        json result = d.failure() ? encodeFailure(*d.failure()) : encode(d.result());
        state = {{"state", userPauses > 0 ? "paused" : "fired"}, {"result", std::move(result)}};
      }
      if (userPauses > 0) state["paused"] = userPauses;
      states[name] = std::move(state);
    }
    for (const auto& [name, p] : primitives) {
      if (lockNames.count(name)) {
        states[name] = {{"locked", p.tokens() == 0}, {"waiting", p.waiting()}};
      } else {
        states[name] = {{"tokens", p.tokens()}, {"limit", p.limit()}, {"waiting", p.waiting()}};
      }
    }
    for (const auto& [name, q] : queues) {
      json pending = json::array();
      for (const Value& v : q.pending()) pending.push_back(encode(v));
      states[name] = {{"pending", std::move(pending)}, {"waiting", q.waiting()}};
    }
    return states;
  }
};

// The unhandled-error sink is process-wide; it reports into the run in progress.
Run* currentRun = nullptr;

class ReferenceImplementation final : public Implementation {
 public:
  ImplementationInfo info() override {
    return {"reference",
            "0.1.0",
            "c++",
            "",
            {"core", "synchronous", "final-state", "extra-args", "pause", "cancel",
             "chain-deferred", "maybe-deferred", "unhandled-error", "self-chain-error",
             "deferred-list", "gather", "timeout", "lock", "semaphore", "queue", "coroutine"}};
  }

  Outcome run(const std::string& /*case_id*/, const json& program) override {
    if (!program.is_array()) return Outcome::errored("the program must be a list of steps");
    Run run;
    currentRun = &run;
    auto previous = deferred::setUnhandledErrorSink([](const Failure& f) {
      if (currentRun && currentRun->recording)
        currentRun->trace.push_back({{"unhandled", encodeFailure(f)}});
    });
    // Logged errors (a DeferredList member's canceller raising) are not
    // observations: the Twisted driver leaves its log's other events out too.
    auto previousLog = deferred::setErrorLogSink([](std::string_view, const Failure&) {});
    Outcome outcome = execute(run, program);
    // Tear down without recording: only drops inside the program are observed.
    run.recording = false;
    releaseOneByOne(run.deferreds);
    releaseOneByOne(run.primitives);
    releaseOneByOne(run.queues);
    run.clock.reset();  // pending timers hold Deferreds too
    deferred::setUnhandledErrorSink(std::move(previous));
    deferred::setErrorLogSink(std::move(previousLog));
    currentRun = nullptr;
    return outcome;
  }

 private:
  // Lets a run's named objects go one at a time, each after leaving the map:
  // destroying one may run handlers that look names up (found by the
  // scenario fuzzer: a coroutine frame's destructor firing its Deferred,
  // whose errback cancels a named one, while clear() had the map half gone).
  template <class Map>
  static void releaseOneByOne(Map& objects) {
    while (!objects.empty()) objects.extract(objects.begin());
  }

  static Outcome execute(Run& run, const json& program) {
    for (std::size_t i = 0; i < program.size(); ++i) {
      try {
        if (!program[i].is_object()) throw ProgramError("a step must be an object");
        run.step(program[i]);
      } catch (const ProgramError& e) {
        return Outcome::errored("step " + std::to_string(i) + ": " + e.what());
      } catch (...) {
        if (!run.programError.empty()) break;
        run.trace.push_back({{"raised", encodeFailure(Failure::current())}, {"step", i}});
      }
      if (!run.programError.empty())
        return Outcome::errored("step " + std::to_string(i) + ": " + run.programError);
    }
    if (!run.programError.empty()) return Outcome::errored(run.programError);
    return Outcome::observed({{"trace", std::move(run.trace)}, {"final", run.finalStates()}});
  }
};

}  // namespace

std::unique_ptr<Implementation> make_reference_implementation() {
  return std::make_unique<ReferenceImplementation>();
}

}  // namespace conformance

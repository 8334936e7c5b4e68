// Decodes fuzzer bytes into a program of the spec's step language
// (spec/README.md), as JSON. Every byte string decodes to some program; the
// programs are mostly well formed (fields of the right types, names created
// before use at top level) with occasional deliberate damage (a field
// removed or replaced by a random value), so that both the semantics and the
// adapter's error paths are explored.
//
// Bounded by construction: at most kMaxSteps top-level steps, bodies nested at
// most kMaxDepth deep and kMaxNodes steps/actions in all. The step language has
// no loops and every handler runs at most once, so running a decoded program
// takes time linear in its size.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fuzz {

class ProgramGen {
 public:
  static constexpr int kMaxSteps = 40;
  static constexpr int kMaxDepth = 4;
  static constexpr int kMaxNodes = 200;

  explicit ProgramGen(FuzzedDataProvider& p) : p_(p) {}

  nlohmann::json program() {
    nlohmann::json prog = nlohmann::json::array();
    const int n = p_.ConsumeIntegralInRange<int>(1, kMaxSteps);
    for (int i = 0; i < n && p_.remaining_bytes() > 0 && nodes_ < kMaxNodes; ++i) prog.push_back(step(0, false));
    return prog;
  }

 private:
  using json = nlohmann::json;
  enum Kind { kDeferred, kLock, kSemaphore, kQueue, kKinds };

  FuzzedDataProvider& p_;
  int nodes_ = 0;
  int labels_ = 0;
  std::vector<std::string> made_[kKinds];  // names created so far (in program text order)
  int next_[kKinds] = {};

  static constexpr const char* kPrefix[kKinds] = {"d", "lock", "sem", "q"};
  static constexpr int kPool[kKinds] = {8, 2, 2, 2};

  int pick(int n) { return p_.ConsumeIntegralInRange<int>(0, n - 1); }
  bool chance(int one_in) { return pick(one_in) == 0; }

  std::string label() { return "h" + std::to_string(labels_++); }

  // A name to create: usually a fresh one; sometimes one already made (a
  // clean "defined twice" error).
  std::string def(Kind k) {
    if (!made_[k].empty() && chance(16)) return made_[k][pick(static_cast<int>(made_[k].size()))];
    const int i = next_[k] < kPool[k] ? next_[k]++ : pick(kPool[k]);
    std::string name = kPrefix[k] + std::to_string(i);
    made_[k].push_back(name);
    return name;
  }

  // A name to act on: usually one already made; sometimes any name of the pool
  // (maybe not created yet, or of another kind: a clean error).
  std::string use(Kind k) {
    if (made_[k].empty() || chance(24)) {
      const Kind any = chance(8) ? static_cast<Kind>(pick(kKinds)) : k;
      return kPrefix[any] + std::to_string(pick(kPool[any]));
    }
    return made_[k][pick(static_cast<int>(made_[k].size()))];
  }

  std::string error_type(bool test_only = false) {
    static const char* const kTest[] = {"TestError", "TestErrorA", "TestErrorA1", "TestErrorB"};
    static const char* const kAll[] = {"TestError",      "TestErrorA",   "TestErrorA1",   "TestErrorB",
                                       "CancelledError", "AlreadyCalledError", "FirstError", "TimeoutError",
                                       "QueueOverflow",  "QueueUnderflow",     "SelfChainError", "NoSuchError"};
    if (test_only || chance(2)) return kTest[pick(4)];
    return kAll[pick(static_cast<int>(std::size(kAll)))];
  }

  std::string text() {
    static const char* const kText[] = {"boom", "", "x", "r\u00e9sum\u00e9", "a b", "$x", "\n", "0"};
    return kText[pick(static_cast<int>(std::size(kText)))];
  }

  json number() {
    switch (pick(8)) {
      case 0: return 0;
      case 1: return -1;
      case 2: return std::numeric_limits<std::int64_t>::max();
      case 3: return std::numeric_limits<std::int64_t>::min();
      case 4: return std::numeric_limits<std::uint64_t>::max();
      case 5: return 1.5;
      case 6: return 1e308;
      default: return p_.ConsumeIntegralInRange<int>(-3, 100);
    }
  }

  json failure_value() {
    const std::string type = error_type();
    json f = {{"$failure", type}};
    if (type.rfind("Test", 0) == 0 || chance(8)) f["message"] = text();
    if (type == "FirstError" && !chance(4)) {
      f["index"] = pick(3);
      f["sub"] = {{"$failure", error_type(true)}, {"message", text()}};
    }
    return f;
  }

  json value(int depth = 0) {
    switch (pick(depth < 2 ? 12 : 8)) {
      case 0: return nullptr;
      case 1: return pick(2) == 1;
      case 2: case 3: return number();
      case 4: case 5: return text();
      case 6: return failure_value();
      case 7: return {{"$deferred", chance(4) ? json() : json(use(kDeferred))}};
      case 8: {
        json a = json::array();
        for (int i = pick(4); i > 0; --i) a.push_back(value(depth + 1));
        return a;
      }
      case 9: return {{"k", value(depth + 1)}, {"n", pick(3)}};
      case 10: return {{"$object", use(kLock)}};
      default: return {{"$bogus", 1}};
    }
  }

  json args() {
    json a = json::array();
    for (int i = pick(3); i > 0; --i) a.push_back(value(1));
    return a;
  }

  json error_list() {
    json a = json::array();
    for (int i = 1 + pick(2); i > 0; --i) a.push_back(error_type());
    return a;
  }

  // A handler body: actions, ended (or not) by return/raise.
  json body(int depth, bool coroutine) {
    json b = json::array();
    const int n = pick(5);
    for (int i = 0; i < n && nodes_ < kMaxNodes; ++i) {
      ++nodes_;
      switch (pick(coroutine ? 9 : 12)) {
        case 0: b.push_back({{"return", value()}}); return b;
        case 1: {
          json r = {{"raise", error_type()}};
          if (!chance(6)) r["message"] = text();
          b.push_back(std::move(r));
          return b;
        }
        case 2: b.push_back({{"returnDeferred", use(kDeferred)}}); return b;
        case 3: case 4: case 5: case 6:
          if (depth < kMaxDepth) b.push_back(step(depth + 1, coroutine));
          break;
        case 7:
          if (coroutine) {
            json a = {{"op", "await"}, {"target", use(kDeferred)}, {"label", label()}};
            if (chance(2)) a["catch"] = error_list();
            b.push_back(std::move(a));
          }
          break;
        case 8: b.push_back({{"op", "mark"}, {"label", label()}}); break;
        case 9: b.push_back("returnArgument"); return b;
        case 10: b.push_back("raiseArgument"); return b;
        default: b.push_back({{"trap", error_list()}}); break;
      }
    }
    if (chance(3)) b.push_back("returnArgument");
    return b;
  }

  json handler(int depth, bool coroutine) {
    json h = {{"label", label()}, {"do", body(depth, coroutine)}};
    if (chance(4)) h["args"] = args();
    return h;
  }

  json step(int depth, bool coroutine) {
    ++nodes_;
    json s = make_step(depth, coroutine);
    if (chance(40)) damage(s);
    return s;
  }

  // Deliberate damage: a field dropped or replaced by a value of any type.
  void damage(json& s) {
    if (!s.is_object() || s.empty()) return;
    auto it = s.begin();
    std::advance(it, pick(static_cast<int>(s.size())));
    const std::string key = it.key();
    if (chance(2)) s.erase(key);
    else s[key] = value(1);
  }

  json make_step(int depth, bool coroutine) {
    auto with_target = [&](const char* op, Kind k = kDeferred) { return json{{"op", op}, {"target", use(k)}}; };
    switch (pick(32)) {
      case 0: case 1: case 2: {
        json s = {{"op", "new"}};
        if (chance(4)) s["canceller"] = handler(depth + 1, false);
        s["name"] = def(kDeferred);
        return s;
      }
      case 3: return {{"op", "succeed"}, {"name", def(kDeferred)}, {"value", value()}};
      case 4: return {{"op", "fail"}, {"name", def(kDeferred)}, {"error", error_type()}, {"message", text()}};
      case 5: {
        json s = {{"op", "maybeDeferred"}, {"label", label()}, {"do", body(depth + 1, false)}};
        if (chance(3)) s["args"] = args();
        s["name"] = def(kDeferred);
        return s;
      }
      case 6: case 7: {
        json s = {{"op", pick(2) ? "DeferredList" : "gatherResults"}};
        json m = json::array();
        for (int i = pick(4); i > 0; --i) m.push_back(use(kDeferred));
        s["members"] = std::move(m);
        if (s["op"] == "DeferredList") {
          for (const char* o : {"fireOnOneCallback", "fireOnOneErrback"})
            if (chance(3)) s[o] = pick(2) == 1;
        }
        if (chance(3)) s["consumeErrors"] = pick(2) == 1;
        s["name"] = def(kDeferred);
        return s;
      }
      case 8: {
        json s = {{"op", "coroutine"}, {"body", body(depth + 1, true)}};
        s["name"] = def(kDeferred);
        return s;
      }
      case 9: case 10: case 11: case 12: {
        static const char* const kAdd[] = {"addCallback", "addErrback", "addBoth", "addCallback"};
        json s = with_target(kAdd[pick(4)]);
        s["label"] = label();
        s["do"] = body(depth + 1, false);
        if (chance(4)) s["args"] = args();
        return s;
      }
      case 13: {
        json s = with_target("addCallbacks");
        s["callback"] = handler(depth + 1, false);
        s["errback"] = handler(depth + 1, false);
        return s;
      }
      case 14: {
        json s = with_target("chainDeferred");
        s["to"] = use(kDeferred);
        return s;
      }
      case 15: {
        json s = with_target("addTimeout");
        s["seconds"] = seconds();
        if (chance(3)) {
          json h = handler(depth + 1, false);
          if (!chance(8)) h.erase("args");
          s["onTimeoutCancel"] = std::move(h);
        }
        return s;
      }
      case 16: case 17: case 18: {
        json s = with_target("callback");
        s["value"] = value();
        return s;
      }
      case 19: case 20: {
        json s = with_target("errback");
        s["error"] = error_type();
        if (!chance(8)) s["message"] = text();
        return s;
      }
      case 21: return with_target("cancel");
      case 22: return with_target(pick(2) ? "pause" : "unpause");
      case 23: return {{"op", "advance"}, {"seconds", seconds()}};
      case 24: return with_target("drop", static_cast<Kind>(chance(4) ? pick(kKinds) : kDeferred));
      case 25: return {{"op", "mark"}, {"label", label()}};
      case 26: {
        switch (pick(3)) {
          case 0: return {{"op", "DeferredLock"}, {"name", def(kLock)}};
          case 1: return {{"op", "DeferredSemaphore"}, {"name", def(kSemaphore)}, {"tokens", pick(4)}};
          default: {
            json s = {{"op", "DeferredQueue"}, {"name", def(kQueue)}};
            if (chance(2)) s["size"] = chance(4) ? json() : json(pick(3));
            if (chance(2)) s["backlog"] = chance(4) ? json() : json(pick(3));
            return s;
          }
        }
      }
      case 27: return {{"op", "acquire"}, {"target", use(pick(2) ? kLock : kSemaphore)}, {"name", def(kDeferred)}};
      case 28: return {{"op", "release"}, {"target", use(pick(2) ? kLock : kSemaphore)}};
      case 29: {
        json s = {{"op", "run"}, {"target", use(pick(2) ? kLock : kSemaphore)}, {"label", label()},
                  {"do", body(depth + 1, false)}};
        if (chance(3)) s["args"] = args();
        s["name"] = def(kDeferred);
        return s;
      }
      case 30: return {{"op", "put"}, {"target", use(kQueue)}, {"value", value()}};
      default: {
        if (coroutine && chance(2)) {
          json a = {{"op", "await"}, {"target", use(kDeferred)}, {"label", label()}};
          if (chance(2)) a["catch"] = error_list();
          return a;
        }
        return {{"op", "get"}, {"target", use(kQueue)}, {"name", def(kDeferred)}};
      }
    }
  }

  json seconds() {
    static const double kSeconds[] = {0, 0.5, 1, 1, 2, 3, 10, 1e9};
    if (chance(32)) return -1;
    return kSeconds[pick(static_cast<int>(std::size(kSeconds)))];
  }
};

}  // namespace fuzz

#include "scenario.h"

#include "keys.h"

namespace props {

namespace {
// a + b without operator+(const char*, std::string&&) (GCC 12 -O3 -Wrestrict false positive)
std::string cat(std::string a, const std::string& b) {
  a.append(b);
  return a;
}
const char* const kErrors[] = {"TestError", "TestErrorA", "TestErrorA1", "TestErrorB"};
const char* const kTrapTypes[] = {"TestError",      "TestErrorA",         "TestErrorA1", "TestErrorB",
                                  "CancelledError", "AlreadyCalledError", "FirstError"};
}  // namespace

const char* error_name(std::uint8_t t) { return kErrors[t % 4]; }
std::string message_of(std::uint8_t m) { return cat("e", std::to_string(m % 3)); }

json value_of(std::uint8_t v) {
  switch (v % kValueCount) {
    case 0: return nullptr;
    case 1: return 1;
    case 2: return 2;
    case 3: return "x";
    case 4: return "y";
    case 5: return true;
    case 6: return 0;
    case 7: return json::array({1, "x"});
    case 8: return json{{"k", 1}};
    case 9: return json{{"$failure", "TestError"}, {"message", "v"}};
    case 10: return json{{"$failure", "TestErrorA"}, {"message", "w"}};
    case 11: return json{{"$failure", "TestErrorA1"}, {"message", "v"}};
    default: return json{{"$failure", "TestErrorB"}, {"message", "w"}};
  }
}

Profile restrict_to(Profile p, const Features& f) {
  auto off = [&](std::initializer_list<int> steps, std::initializer_list<int> actions) {
    for (int s : steps) p.step_weights[static_cast<std::size_t>(s)] = 0;
    for (int a : actions) p.action_weights[static_cast<std::size_t>(a)] = 0;
  };
  if (!f.has("pause")) off({S_pause, S_unpause}, {A_pause, A_unpause});
  if (!f.has("cancel")) off({S_cancel, S_newCanceller}, {A_cancel});
  if (!f.has("chain-deferred")) off({S_chainDeferred}, {});
  if (!f.has("deferred-list")) off({S_deferredList}, {});
  if (!f.has("gather")) off({S_gather}, {});
  if (!f.has("maybe-deferred")) off({S_maybeDeferred}, {});
  return p;
}

std::vector<Profile> standard_profiles() {
  std::vector<Profile> out;
  //                 new cb  aC  aE  aB aCs eb suc fail mk nCan can pau unp chn DL  gat mD
  auto base = [](std::string name, std::array<int, S_count> s, std::array<int, A_count> a) {
    Profile p;
    p.name = std::move(name);
    p.step_weights = s;
    p.action_weights = a;
    return p;
  };
  //                                 ret rArg rai rAr trp rDf mrk fir can pau unp
  out.push_back(base("chains", {6, 5, 8, 5, 4, 4, 3, 3, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0},
                     {6, 5, 4, 2, 3, 0, 1, 0, 0, 0, 0}));
  out.push_back(base("errbacks", {5, 3, 5, 7, 3, 5, 5, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0},
                     {5, 4, 5, 4, 6, 0, 1, 0, 0, 0, 0}));
  out.push_back(base("nested", {8, 5, 6, 3, 3, 3, 2, 3, 2, 2, 0, 0, 1, 1, 3, 0, 0, 1},
                     {4, 3, 3, 2, 2, 7, 1, 3, 0, 0, 0}));
  out.push_back(base("control", {6, 4, 5, 4, 3, 3, 2, 2, 1, 2, 4, 5, 5, 4, 1, 0, 0, 0},
                     {4, 3, 3, 2, 2, 3, 1, 3, 2, 2, 2}));
  out.push_back(base("lists", {9, 6, 4, 4, 2, 2, 4, 3, 2, 1, 1, 2, 1, 1, 0, 5, 4, 1},
                     {5, 4, 4, 2, 3, 2, 1, 2, 1, 0, 0}));
  Profile mixed = base("mixed", {7, 5, 5, 4, 3, 3, 3, 2, 2, 2, 2, 3, 3, 2, 2, 2, 2, 1},
                       {5, 4, 4, 2, 3, 4, 1, 3, 2, 1, 1});
  mixed.max_steps = 18;
  mixed.refire_percent = 10;
  out.push_back(mixed);
  return out;
}

int Renderer::resolve(std::uint8_t r) const {
  if (defs.empty()) return -1;
  return static_cast<int>(r % defs.size());
}

bool Renderer::fireable(int d) const {
  const auto& x = defs[static_cast<std::size_t>(d)];
  return !x.aggregate && !x.prefired && (x.firers == 0 || refire_now_);
}

std::string Renderer::label(const char* kind) {
  return cat(cat(opt_.label_prefix, kind), std::to_string(label_counter++));
}

json Renderer::value(std::uint8_t v) const { return value_of(v); }

namespace {
template <class Pred>
int pick(std::uint8_t r, int n, Pred ok) {
  std::vector<int> c;
  for (int i = 0; i < n; ++i)
    if (ok(i)) c.push_back(i);
  if (c.empty()) return -1;
  return c[r % c.size()];
}
json target_step(const char* op, const std::string& name) { return json{{"op", op}, {kTargetKey, name}}; }
}  // namespace

json Renderer::body(const std::vector<RawAction>& actions, char pos, int owner) {
  json out = json::array();
  const int n = static_cast<int>(defs.size());
  const bool has_arg = pos != 'f';
  const bool canceller = pos == 'x';
  const bool effects = opt_.side_effects && !canceller;
  for (const auto& a : actions) {
    switch (a.kind % A_count) {
      case A_return:
        out.push_back(json{{"return", value(a.a)}});
        return out;
      case A_returnArgument:
        if (!has_arg) break;
        out.push_back("returnArgument");
        return out;
      case A_raiseArgument:
        if (pos == 'e') {
          out.push_back("raiseArgument");
          return out;
        }
        [[fallthrough]];
      case A_raise:
        out.push_back(json{{"raise", error_name(a.a)}, {"message", message_of(a.b)}});
        return out;
      case A_trap: {
        if (pos != 'e') break;
        json types = json::array();
        for (int i = 0; i < 7; ++i)
          if (a.a & (1 << i)) types.push_back(kTrapTypes[i]);
        if (types.empty()) types.push_back("TestErrorA");
        out.push_back(json{{"trap", types}});
        break;
      }
      case A_returnDeferred: {
        // Handlers return a later Deferred (no cycles); maybeDeferred's
        // function (pos 'f', no owner) may return any existing one, which
        // maybeDeferred must then return as is.
        const bool handler_pos = (pos == 'c' || pos == 'e' || pos == 'b') && owner >= 0;
        if (!handler_pos && pos != 'f') break;
        int d = pick(a.a, n, [&](int i) {
          const auto& x = defs[static_cast<std::size_t>(i)];
          // An alias would hide a cycle behind a later index.
          return i > owner && !x.aggregate && x.alias_of < 0 && (opt_.return_pending || x.prefired);
        });
        if (d < 0) break;
        out.push_back(json{{"returnDeferred", defs[static_cast<std::size_t>(d)].name}});
        return out;
      }
      case A_mark:
        if (!opt_.side_effects) break;
        out.push_back(json{{"op", "mark"}, {"label", cat("m", std::to_string(label_counter++))}});
        break;
      case A_fire: {
        if (canceller) {
          json st = target_step("callback", defs[static_cast<std::size_t>(owner)].name);
          st["value"] = value(a.b);
          out.push_back(st);
          break;
        }
        if (!effects) break;
        int d = pick(a.a, n, [&](int i) { return i != owner && fireable(i); });
        if (d < 0) break;
        defs[static_cast<std::size_t>(d)].firers++;
        json st = target_step("callback", defs[static_cast<std::size_t>(d)].name);
        st["value"] = value(a.b);
        out.push_back(st);
        break;
      }
      case A_cancel: {
        if (!effects || !features_.has("cancel")) break;
        int d = resolve(a.a);
        if (d < 0) break;
        out.push_back(target_step("cancel", defs[static_cast<std::size_t>(d)].name));
        break;
      }
      case A_pause: {
        if (!effects || !features_.has("pause")) break;
        int d = resolve(a.a);
        if (d < 0) break;
        out.push_back(target_step("pause", defs[static_cast<std::size_t>(d)].name));
        break;
      }
      case A_unpause: {
        if (!effects || !features_.has("pause")) break;
        int d = pick(a.a, n, [&](int i) { return defs[static_cast<std::size_t>(i)].spare_pauses > 0; });
        if (d < 0) break;
        defs[static_cast<std::size_t>(d)].spare_pauses--;
        out.push_back(target_step("unpause", defs[static_cast<std::size_t>(d)].name));
        break;
      }
      default:
        break;
    }
  }
  return out;
}

json Renderer::handler(const RawHandler& h, char pos, int owner) {
  const char* kind = pos == 'c' ? "cb" : pos == 'e' ? "eb" : pos == 'b' ? "both" : pos == 'x' ? "canceller" : "f";
  json out{{"label", label(kind)}, {"do", body(h.body, pos, owner)}};
  if (features_.has("extra-args") && !h.args.empty()) {
    json args = json::array();
    for (auto v : h.args) args.push_back(value(static_cast<std::uint8_t>(v % kPlainValueCount)));
    out["args"] = args;
  }
  return out;
}

void Renderer::step(const RawStep& s, json& program) {
  const int n = static_cast<int>(defs.size());
  auto create = [&](const char* prefix, bool aggregate, bool prefired) {
    DeferredInfo x;
    x.name = cat(prefix, std::to_string(n));
    x.aggregate = aggregate;
    x.prefired = prefired;
    defs.push_back(x);
    return x.name;
  };
  auto name = [&](int d) { return defs[static_cast<std::size_t>(d)].name; };
  json st;
  switch (s.kind % S_count) {
    case S_new:
      st = json{{"op", "new"}, {"name", create("d", false, false)}};
      break;
    case S_newCanceller: {
      if (!features_.has("cancel")) {
        st = json{{"op", "new"}, {"name", create("d", false, false)}};
        break;
      }
      std::string nm = create("d", false, false);
      json c = handler(s.h1, 'x', n);
      c.erase("args");  // the canceller receives the Deferred only
      st = json{{"op", "new"}, {"name", nm}, {"canceller", c}};
      break;
    }
    case S_succeed:
      st = json{{"op", "succeed"}, {"name", create("d", false, true)}, {"value", value(s.b)}};
      break;
    case S_fail:
      st = json{{"op", "fail"}, {"name", create("d", false, true)}, {"error", error_name(s.b)},
                {"message", message_of(s.c)}};
      break;
    case S_callback:
    case S_errback: {
      refire_now_ = opt_.refire && s.refire;
      int d = pick(s.a, n, [&](int i) { return fireable(i); });
      refire_now_ = false;
      if (d < 0) return;
      defs[static_cast<std::size_t>(d)].firers++;
      st = target_step(s.kind % S_count == S_callback ? "callback" : "errback", name(d));
      if (s.kind % S_count == S_callback) {
        st["value"] = value(s.b);
      } else {
        st["error"] = error_name(s.b);
        st["message"] = message_of(s.c);
      }
      break;
    }
    case S_addCallback:
    case S_addErrback:
    case S_addBoth: {
      int d = resolve(s.a);
      if (d < 0) return;
      const int k = s.kind % S_count;
      const char pos = k == S_addCallback ? 'c' : k == S_addErrback ? 'e' : 'b';
      st = target_step(k == S_addCallback ? "addCallback" : k == S_addErrback ? "addErrback" : "addBoth", name(d));
      json h = handler(s.h1, pos, d);
      for (auto it = h.begin(); it != h.end(); ++it) st[it.key()] = it.value();
      break;
    }
    case S_addCallbacks: {
      int d = resolve(s.a);
      if (d < 0) return;
      st = target_step("addCallbacks", name(d));
      st["callback"] = handler(s.h1, 'c', d);
      // errback is always given: the spec's table lists both (the reference requires it)
      st["errback"] = handler(s.h2, 'e', d);
      break;
    }
    case S_mark:
      st = json{{"op", "mark"}, {"label", cat("m", std::to_string(label_counter++))}};
      break;
    case S_cancel: {
      int d = resolve(s.a);
      if (d < 0 || !features_.has("cancel")) return;
      st = target_step("cancel", name(d));
      break;
    }
    case S_pause: {
      int d = resolve(s.a);
      if (d < 0 || !features_.has("pause")) return;
      defs[static_cast<std::size_t>(d)].spare_pauses++;
      st = target_step("pause", name(d));
      break;
    }
    case S_unpause: {
      int d = pick(s.a, n, [&](int i) { return defs[static_cast<std::size_t>(i)].spare_pauses > 0; });
      if (d < 0 || !features_.has("pause")) return;
      defs[static_cast<std::size_t>(d)].spare_pauses--;
      st = target_step("unpause", name(d));
      break;
    }
    case S_chainDeferred: {
      if (!features_.has("chain-deferred")) return;
      int d = resolve(s.a);
      if (d < 0) return;
      int e = pick(s.b, n, [&](int i) { return i > d && fireable(i); });
      if (e < 0) return;
      defs[static_cast<std::size_t>(e)].firers++;
      st = target_step("chainDeferred", name(d));
      st["to"] = name(e);
      break;
    }
    case S_deferredList:
    case S_gather: {
      const bool gather = s.kind % S_count == S_gather;
      if (!features_.has(gather ? "gather" : "deferred-list")) return;
      json members = json::array();
      std::set<int> seen;
      for (auto m : s.members) {
        int d = resolve(m);
        if (d < 0) continue;
        const int same = defs[static_cast<std::size_t>(d)].alias_of;
        const int canonical = same >= 0 ? same : d;
        if (seen.count(canonical) || seen.size() >= 4) continue;
        seen.insert(canonical);
        members.push_back(name(d));
      }
      st = json{{"op", gather ? "gatherResults" : "DeferredList"},
                {"name", create(gather ? "g" : "l", true, false)},
                {"members", members}};
      if (!gather && (s.c & 1)) st["fireOnOneCallback"] = true;
      if (!gather && (s.c & 2)) st["fireOnOneErrback"] = true;
      if (s.c & 4) st["consumeErrors"] = true;
      break;
    }
    case S_maybeDeferred: {
      if (!features_.has("maybe-deferred")) return;
      json h = handler(s.h1, 'f', -1);
      int returned = -1;
      if (!h["do"].empty() && h["do"].back().contains("returnDeferred")) {
        const auto& target = h["do"].back()["returnDeferred"];
        for (int i = 0; i < n; ++i)
          if (defs[static_cast<std::size_t>(i)].name == target) returned = i;
      }
      st = json{{"op", "maybeDeferred"}, {"name", create("d", false, true)}};
      defs.back().alias_of = returned;
      for (auto it = h.begin(); it != h.end(); ++it) st[it.key()] = it.value();
      break;
    }
    default:
      return;
  }
  program.push_back(std::move(st));
  ++current_step;
}

json render(const Scenario& s, const Features& f, const RenderOptions& o) {
  Renderer r(f, o);
  json program = json::array();
  for (const auto& st : s.steps) r.step(st, program);
  return program;
}

}  // namespace props

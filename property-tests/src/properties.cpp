#include "properties.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <rapidcheck.h>

#include "conformance/comparator.h"
#include "gens.h"
#include "keys.h"
#include "model/model.h"
#include "yaml_out.h"

namespace props {

using json = nlohmann::json;

// --- helpers ---------------------------------------------------------------------

json observe(conformance::Implementation& impl, const json& program) {
  auto o = impl.run("property", program);
  switch (o.kind) {
    case conformance::Outcome::Kind::observed:
      return std::move(o.observations);
    case conformance::Outcome::Kind::skipped:
      return nullptr;
    case conformance::Outcome::Kind::errored:
      break;
  }
  throw std::runtime_error("the implementation errored: " + o.message + (o.details.empty() ? "" : "\n" + o.details));
}

namespace {

json filter_trace(json obs, const std::function<bool(const json&)>& keep) {
  if (!obs.is_object() || !obs.contains("trace")) return obs;
  json t = json::array();
  for (auto& e : obs["trace"])
    if (keep(e)) t.push_back(std::move(e));
  obs["trace"] = std::move(t);
  return obs;
}

bool label_starts(const json& e, const std::string& prefix) {
  return e.contains("call") && e["call"].is_string() && e["call"].get<std::string>().rfind(prefix, 0) == 0;
}

}  // namespace

json without_marks(json obs) {
  return filter_trace(std::move(obs), [](const json& e) { return !e.contains("mark"); });
}
json without_labels(json obs, const std::string& prefix) {
  return filter_trace(std::move(obs), [&](const json& e) { return !label_starts(e, prefix); });
}
json only_labels(json obs, const std::string& prefix) {
  return filter_trace(std::move(obs), [&](const json& e) { return label_starts(e, prefix); });
}

namespace {

// One program of a counterexample, as shown in the report.
struct Shown {
  std::string title;
  json program;
  json observed;
};

struct Verdict {
  bool ok = true;
  bool discard = false;
  std::string why;
  std::vector<Shown> shown;
};

struct Env {
  conformance::Implementation& impl;
  const Features& features;
  const RunSettings& settings;
  PropertyResult& result;

  json run(const json& program) {
    ++result.impl_runs;
    return observe(impl, program);
  }
  // Observations of A and B compared after normalisation.
  Verdict compare(const json& a, const json& b, const json& na, const json& nb, const std::string& what) {
    Verdict v;
    if (na.is_null() || nb.is_null()) {
      v.discard = true;
      return v;
    }
    json x = na, y = nb;
    if (!features.has("final-state")) {
      x.erase("final");
      y.erase("final");
    }
    if (auto d = conformance::compare_observations(x, y)) {
      v.ok = false;
      v.why = what + ": program A and program B differ (" + *d + ")";
      v.shown = {{"A", a, nullptr}, {"B", b, nullptr}};
    }
    return v;
  }
};

std::uint64_t salt_of(const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string report_of(const Property& p, const Verdict& v, const Env& env, int numSuccess) {
  std::ostringstream o;
  o << "  counterexample (shrunk) after " << numSuccess << " passing scenarios: " << v.why << "\n";
  o << "  reproduce: tools/properties --impl " << env.settings.impl_name << " --only " << p.name << " --seed "
    << env.settings.seed << " --scenarios " << env.settings.scenarios << "\n";
  o << "  spec case(s), expect = the model's observations:\n";
  int i = 0;
  for (const auto& s : v.shown) {
    json expect = nullptr;
    std::string model_note;
    try {
      expect = model::run(s.program);
      if (!env.features.has("final-state")) expect.erase("final");
    } catch (const std::exception& e) {
      model_note = std::string("model: ") + e.what();
    }
    json observed = s.observed;
    if (observed.is_null()) {
      try {
        Env& mut = const_cast<Env&>(env);
        observed = mut.run(s.program);
      } catch (const std::exception& e) {
        model_note += std::string(model_note.empty() ? "" : "\n") + e.what();
      }
    }
    std::string diff;
    if (!expect.is_null() && !observed.is_null())
      if (auto d = conformance::compare_observations(expect, observed)) diff = "first difference from the model: " + *d;
    if (!diff.empty()) model_note += (model_note.empty() ? "" : "\n") + diff;
 std::string id = "property-" + p.name + "-" + std::to_string(env.settings.seed) +
                           (v.shown.size() > 1 ? "-" + s.title : "");
    std::replace(id.begin(), id.end(), '.', '-');
    o << yaml_case(id, p.name + " (" + p.rules + ")" + (v.shown.size() > 1 ? ", program " + s.title : ""), s.program,
                   expect, observed, env.settings.impl_name, model_note, "    ");
    ++i;
  }
  return o.str();
}

// Runs `body` as a RapidCheck property with the settings' seed (salted by the
// property's name) and scenario count; the last failing call is the shrunk
// counterexample.
void check(const Property& p, Env& env, const std::function<Verdict(Env&)>& body) {
  Verdict last;
  const auto t0 = std::chrono::steady_clock::now();
  auto prop = [&]() {
    Verdict v;
    try {
      v = body(env);
    } catch (const rc::detail::CaseResult&) {
      throw;
    } catch (const rc::GenerationFailure&) {
      throw;
    } catch (const std::exception& e) {
      v.ok = false;
      v.why = e.what();
    }
    if (v.discard) RC_DISCARD("the implementation skipped a program");
    if (!v.ok) {
      last = v;
      RC_FAIL(v.why);
    }
  };
  rc::detail::TestParams params;
  params.seed = env.settings.seed ^ salt_of(p.name);
  params.maxSuccess = env.settings.scenarios;
  params.maxSize = env.settings.max_size;
  params.disableShrinking = !env.settings.shrink;
  rc::detail::TestMetadata md;
  md.id = p.name;
  md.description = p.name;
  const auto r = rc::detail::checkTestable(prop, md, params);
  env.result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.template is<rc::detail::SuccessResult>()) {
    env.result.scenarios = r.template get<rc::detail::SuccessResult>().numSuccess;
    return;
  }
  env.result.passed = false;
  std::ostringstream msg;
  if (r.template is<rc::detail::FailureResult>()) {
    const auto& f = r.template get<rc::detail::FailureResult>();
    env.result.scenarios = f.numSuccess + 1;
    if (last.shown.empty()) {
      msg << "  " << f.description << "\n";
    } else {
      msg << report_of(p, last, env, f.numSuccess);
    }
  } else if (r.template is<rc::detail::GaveUpResult>()) {
    const auto& g = r.template get<rc::detail::GaveUpResult>();
    env.result.scenarios = g.numSuccess;
    msg << "  gave up: " << g.description << "\n";
  } else {
    msg << "  error: " << r.template get<rc::detail::Error>().description << "\n";
  }
  env.result.report = msg.str();
}

// --- generators of law scenarios ---------------------------------------------------

Profile law_profile(std::initializer_list<std::pair<StepKind, int>> steps, bool side_effects = false) {
  Profile p;
  p.name = "law";
  for (auto [k, w] : steps) p.step_weights[k] = w;
  //                 ret rArg rai rAr trp rDf mrk fir can pau unp
  p.action_weights = {5, 4, 4, 2, 3, 3, side_effects ? 1 : 0, 0, 0, 0, 0};
  return p;
}

const Profile& adders() {
  static const Profile p =
      law_profile({{S_addCallback, 4}, {S_addErrback, 3}, {S_addBoth, 2}, {S_addCallbacks, 3}});
  return p;
}

RawStep raw(StepKind k, std::uint8_t a = 0, std::uint8_t b = 0, std::uint8_t c = 0) {
  RawStep s;
  s.kind = k;
  s.a = a;
  s.b = b;
  s.c = c;
  return s;
}

// Renders raw handler-adding steps on D(target) (their own references ignored).
void add_handlers(Renderer& r, const std::vector<RawStep>& steps, int target, json& program) {
  for (auto s : steps) {
    s.a = static_cast<std::uint8_t>(target);
    r.step(s, program);
  }
}

json fire_step(const std::string& name, std::uint8_t v) {
  return json{{"op", "callback"}, {kTargetKey, name}, {"value", value_of(v)}};
}

// --- (1) model agreement -------------------------------------------------------------

Property model_property(const Profile& base) {
  Property p;
  p.name = "model." + base.name;
  p.rules = "all rules the model implements";
  p.needs = {"core", "synchronous"};
  p.run = [base, p](conformance::Implementation& impl, const Features& f, const RunSettings& st, PropertyResult& res) {
    Env env{impl, f, st, res};
    const Profile prof = restrict_to(base, f);
    RenderOptions opt;
    opt.refire = prof.refire_percent > 0;
    int shown = 0;
    check(p, env, [&](Env& e) {
      Scenario s{*gens::steps(prof)};
      const json program = render(s, f, opt);
      if (e.settings.show > shown) {
        ++shown;
        std::cerr << yaml_case("sample", p.name, program, model::run(program), nullptr, "", "", "") << "\n";
      }
      Verdict v;
      json expect = model::run(program);
      json got = e.run(program);
      if (got.is_null()) {
        v.discard = true;
        return v;
      }
      if (!f.has("final-state")) expect.erase("final");
      if (auto d = conformance::compare_observations(expect, got)) {
        v.ok = false;
        v.why = "the implementation differs from the model: " + *d;
        v.shown = {{"program", program, got}};
      }
      return v;
    });
  };
  return p;
}

// --- (2) laws ---------------------------------------------------------------------------

// Handlers added before firing and handlers added after firing see the same.
void law_before_after(Env& env, const Property& p) {
  check(p, env, [&](Env& e) {
    const auto handlers = *gens::list_upto(6, gens::step(adders()));
    const auto aux = *gens::list_upto(3, gens::choice({2, 2, 1}));  // succeed, fail, new (fired at the end)
    const std::uint8_t v = *gens::small(kValueCount);
    const std::uint8_t vb = *gens::small(kValueCount);
    RenderOptions o;
    o.side_effects = false;
    Renderer r(e.features, o);
    json head = json::array();
    r.step(raw(S_new), head);
    for (auto k : aux) r.step(k == 0 ? raw(S_succeed, 0, vb) : k == 1 ? raw(S_fail, 0, vb, vb) : raw(S_new), head);
    json hs = json::array();
    add_handlers(r, handlers, 0, hs);
    json tail = json::array();
    for (const auto& d : r.defs)
      if (!d.prefired && d.name != "d0") tail.push_back(fire_step(d.name, vb));
    json a = head, b = head;
    for (const auto& h : hs) a.push_back(h);
    a.push_back(fire_step("d0", v));
    b.push_back(fire_step("d0", v));
    for (const auto& h : hs) b.push_back(h);
    for (const auto& t : tail) {
      a.push_back(t);
      b.push_back(t);
    }
    return e.compare(a, b, without_marks(e.run(a)), without_marks(e.run(b)), "handlers before vs after firing");
  });
}

// Rewrites every top-level step `op` with `rewrite`.
json rewrite_steps(const json& program, const std::string& op, const std::function<json(const json&)>& rewrite) {
  json out = json::array();
  for (const auto& s : program) out.push_back(s.value("op", "") == op ? rewrite(s) : s);
  return out;
}

json handler_of(const json& step) {
  json h{{"label", step["label"]}, {"do", step.contains("do") ? step["do"] : json::array()}};
  if (step.contains("args")) h["args"] = step["args"];
  return h;
}

json adds_profile_scenario(Env& e, const Profile& prof) {
  Scenario s{*gens::steps(restrict_to(prof, e.features))};
  return render(s, e.features, {});
}

void law_addboth(Env& env, const Property& p) {
  Profile prof = standard_profiles()[2];  // nested
  prof.step_weights[S_addBoth] = 12;
  check(p, env, [&](Env& e) {
    const json a = adds_profile_scenario(e, prof);
    const json b = rewrite_steps(a, "addBoth", [](const json& s) {
      json h = handler_of(s);
      return json{{"op", "addCallbacks"}, {kTargetKey, s[kTargetKey]}, {"callback", h}, {"errback", h}};
    });
    return e.compare(a, b, e.run(a), e.run(b), "addBoth(f) vs addCallbacks(f, f)");
  });
}

void law_addcallback(Env& env, const Property& p) {
  Profile prof = standard_profiles()[1];  // errbacks
  check(p, env, [&](Env& e) {
    const json a = adds_profile_scenario(e, prof);
    int n = 0;
    auto pt = [&]() { return json{{"label", "pt" + std::to_string(n++)}, {"do", json::array({"returnArgument"})}}; };
    json b = rewrite_steps(a, "addCallback", [&](const json& s) {
      return json{{"op", "addCallbacks"}, {kTargetKey, s[kTargetKey]}, {"callback", handler_of(s)}, {"errback", pt()}};
    });
    b = rewrite_steps(b, "addErrback", [&](const json& s) {
      return json{{"op", "addCallbacks"}, {kTargetKey, s[kTargetKey]}, {"callback", pt()}, {"errback", handler_of(s)}};
    });
    return e.compare(a, b, e.run(a), without_labels(e.run(b), "pt"),
                     "addCallback(f)/addErrback(g) vs addCallbacks with a returnArgument passthrough");
  });
}

void law_chain(Env& env, const Property& p) {
  check(p, env, [&](Env& e) {
    const std::uint8_t src = *gens::choice({3, 1, 1});  // new + callback, succeed, fail
    const std::uint8_t v = *gens::small(kValueCount);
    const std::uint8_t fire_first = *gens::small(2);
    const std::uint8_t prefire_target = *gens::choice({9, 1});
    const auto pre = *gens::list_upto(3, gens::step(adders()));
    const auto post_src = *gens::list_upto(3, gens::step(adders()));
    const auto post_dst = *gens::list_upto(3, gens::step(adders()));
    RenderOptions o;
    o.side_effects = false;
    Renderer r(e.features, o);
    json head = json::array();
    r.step(src == 0 ? raw(S_new) : src == 1 ? raw(S_succeed, 0, v) : raw(S_fail, 0, v, v), head);
    r.step(raw(S_new), head);
    add_handlers(r, pre, 1, head);
    if (prefire_target) head.push_back(fire_step("d1", 1));
    const json value = src == 2 ? json{{"$failure", error_name(v)}, {"message", message_of(v)}} : value_of(v);
    json fire = src == 0 ? fire_step("d0", v) : json();
    json tail = json::array();
    add_handlers(r, post_src, 0, tail);
    add_handlers(r, post_dst, 1, tail);
    auto build = [&](const json& link) {
      json prog = head;
      if (src == 0 && fire_first) prog.push_back(fire);
      prog.push_back(link);
      if (src == 0 && !fire_first) prog.push_back(fire);
      for (const auto& t : tail) prog.push_back(t);
      return prog;
    };
    const json a = build(json{{"op", "chainDeferred"}, {kTargetKey, "d0"}, {"to", "d1"}});
    json fwd = json{{"op", "callback"}, {kTargetKey, "d1"}, {"value", value}};
    const json b = build(json{{"op", "addCallbacks"},
                              {kTargetKey, "d0"},
                              {"callback", {{"label", "fwd0"}, {"do", json::array({fwd})}}},
                              {"errback", {{"label", "fwd1"}, {"do", json::array({fwd})}}}});
    return e.compare(a, b, e.run(a), without_labels(e.run(b), "fwd"),
                     "d0.chainDeferred(d1) vs d0.addCallbacks(d1.callback, d1.errback)");
  });
}

void law_list_order(Env& env, const Property& p) {
  const bool dl = env.features.has("deferred-list"), ga = env.features.has("gather");
  check(p, env, [&](Env& e) {
    const bool gather = ga && (!dl || *gens::small(3) == 0);
    const int k = *rc::gen::inRange(1, 5);
    std::vector<std::vector<RawStep>> pre(static_cast<std::size_t>(k));
    if (!gather)
      for (auto& x : pre) x = *gens::list_upto(2, gens::step(adders()));
    std::vector<std::uint8_t> values;
    for (int i = 0; i < k; ++i) values.push_back(*gens::small(gather ? kPlainValueCount : kValueCount));
    const std::uint8_t consume = *gens::small(2);
    const auto lhs = *gens::list_upto(3, gens::step(adders()));
    const auto keys = *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(k), rc::gen::inRange(0, 100));
    RenderOptions o;
    o.side_effects = false;
    o.return_pending = false;
    Renderer r(e.features, o);
    json prog = json::array();
    for (int i = 0; i < k; ++i) r.step(raw(S_new), prog);
    for (int i = 0; i < k; ++i) add_handlers(r, pre[static_cast<std::size_t>(i)], i, prog);
    RawStep agg = raw(gather ? S_gather : S_deferredList, 0, 0, consume ? 4 : 0);
    for (int i = 0; i < k; ++i) agg.members.push_back(static_cast<std::uint8_t>(i));
    r.step(agg, prog);
    r.options().label_prefix = "L";
    add_handlers(r, lhs, k, prog);
    std::vector<int> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), 0);
    std::vector<int> perm = order;
    std::stable_sort(perm.begin(), perm.end(), [&](int x, int y) { return keys[static_cast<std::size_t>(x)] < keys[static_cast<std::size_t>(y)]; });
    auto with_order = [&](const std::vector<int>& ord) {
      json out = prog;
      for (int i : ord) out.push_back(fire_step(r.defs[static_cast<std::size_t>(i)].name, values[static_cast<std::size_t>(i)]));
      return out;
    };
    const json a = with_order(order), b = with_order(perm);
    return e.compare(a, b, only_labels(e.run(a), "L"), only_labels(e.run(b), "L"),
                     "the list's handlers and every final state, members fired in order vs permuted");
  });
}

void law_consume(Env& env, const Property& p) {
  const bool dl = env.features.has("deferred-list"), ga = env.features.has("gather");
  check(p, env, [&](Env& e) {
    const bool gather = ga && (!dl || *gens::small(2) == 0);
    const int k = *rc::gen::inRange(1, 5);
    std::vector<std::vector<RawStep>> post(static_cast<std::size_t>(k));
    for (auto& x : post) x = *gens::list_upto(2, gens::step(adders()));
    std::vector<std::uint8_t> values;
    for (int i = 0; i < k; ++i) values.push_back(*gens::choice({1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3}));
    const std::uint8_t foe = *gens::small(2);
    const std::uint8_t fire_first = *gens::small(2);
    RenderOptions o;
    o.side_effects = false;
    o.return_pending = false;
    Renderer r(e.features, o);
    json prog = json::array();
    for (int i = 0; i < k; ++i) r.step(raw(S_new), prog);
    RawStep agg = raw(gather ? S_gather : S_deferredList, 0, 0, static_cast<std::uint8_t>(4 | (foe ? 2 : 0)));
    for (int i = 0; i < k; ++i) agg.members.push_back(static_cast<std::uint8_t>(i));
    r.step(agg, prog);
    r.options().label_prefix = "P";
    json posts = json::array();
    for (int i = 0; i < k; ++i) add_handlers(r, post[static_cast<std::size_t>(i)], i, posts);
    auto build = [&](bool failures) {
      json out = prog;
      if (!fire_first)
        for (const auto& s : posts) out.push_back(s);
      for (int i = 0; i < k; ++i) {
        const auto v = values[static_cast<std::size_t>(i)];
        out.push_back(fire_step(r.defs[static_cast<std::size_t>(i)].name, failures || v < kPlainValueCount ? v : 0));
      }
      if (fire_first)
        for (const auto& s : posts) out.push_back(s);
      return out;
    };
    const json a = build(true), b = build(false);
    auto members_only = [&](json obs) {
      if (obs.is_null()) return obs;
      obs = only_labels(std::move(obs), "P");
      if (obs.contains("final")) obs["final"].erase(r.defs.back().name);
      return obs;
    };
    return e.compare(a, b, members_only(e.run(a)), members_only(e.run(b)),
                     "with consumeErrors, members failing vs firing with null: members' later handlers and states");
  });
}

void law_pause(Env& env, const Property& p) {
  const bool cancel = env.features.has("cancel");
  check(p, env, [&](Env& e) {
    Profile on_d = law_profile({{S_addCallback, 4},
                                {S_addErrback, 3},
                                {S_addBoth, 2},
                                {S_addCallbacks, 3},
                                {S_callback, 2},
                                {S_errback, 1},
                                {S_mark, 1},
                                {S_cancel, cancel ? 1 : 0}},
                               true);
    const std::uint8_t with_canceller = cancel ? *gens::small(2) : 0;
    const RawHandler canceller = *gens::handler(law_profile({}, false));
    const auto aux = *gens::list_upto(2, gens::choice({1, 1}));
    const auto steps = *rc::gen::scale(0.1, rc::gen::container<std::vector<RawStep>>(gens::step(on_d)));
    const std::uint8_t vb = *gens::small(kValueCount);
    const int pick = *rc::gen::inRange(0, 1000);
    RenderOptions o;
    o.return_pending = false;
    Renderer r(e.features, o);
    json prog = json::array();
    RawStep first = raw(with_canceller ? S_newCanceller : S_new);
    first.h1 = canceller;
    if (with_canceller) first.h1.body.push_back(RawAction{A_fire, 0, vb});  // the canceller may fire d0, last
    r.step(first, prog);
    for (auto k : aux) r.step(k == 0 ? raw(S_succeed, 0, vb) : raw(S_fail, 0, vb, vb), prog);
    for (const auto& s : steps) {
      const std::size_t before = prog.size();
      RawStep t = s;
      t.a = 0;
      r.step(t, prog);
      if (prog.size() > before && prog.back().contains(kTargetKey)) prog.back()[kTargetKey] = "d0";
    }
    std::vector<std::size_t> on_d0;
    for (std::size_t i = 0; i < prog.size(); ++i)
      if (prog[i].value(kTargetKey, "") == "d0") on_d0.push_back(i);
    if (on_d0.empty()) return Verdict{};
    const std::size_t k = on_d0[static_cast<std::size_t>(pick) % on_d0.size()];
    json b = json::array();
    for (std::size_t i = 0; i < prog.size(); ++i) {
      if (i == k) b.push_back(json{{"op", "pause"}, {kTargetKey, "d0"}});
      b.push_back(prog[i]);
      if (i == k) b.push_back(json{{"op", "unpause"}, {kTargetKey, "d0"}});
    }
    json ob = e.run(b);
    if (ob.is_object()) {  // step numbers of B back to A's
      for (auto& ev : ob["trace"])
        if (ev.contains("step")) {
          const auto s = ev["step"].get<std::size_t>();
          ev["step"] = s <= k ? s : s == k + 1 ? k : s - 2;
        }
    }
    return e.compare(prog, b, e.run(prog), ob, "step " + std::to_string(k) + " alone vs wrapped in pause/unpause");
  });
}

void law_returned_fired(Env& env, const Property& p) {
  check(p, env, [&](Env& e) {
    Profile hp = adders();
    hp.action_weights[A_returnDeferred] = 0;
    const auto handlers = *gens::list_upto(5, gens::step(hp));
    const std::uint8_t failed = *gens::small(2);
    const std::uint8_t v = *gens::small(kValueCount);
    const std::uint8_t fv = *gens::small(kValueCount);
    const int which = *rc::gen::inRange(0, 100);
    const int fire_at = *rc::gen::inRange(0, 100);
    RenderOptions o;
    o.side_effects = false;
    Renderer r(e.features, o);
    json head = json::array();
    r.step(raw(S_new), head);
    r.step(failed ? raw(S_fail, 0, v, v) : raw(S_succeed, 0, v), head);
    json hs = json::array();
    add_handlers(r, handlers, 0, hs);
    if (hs.empty()) return Verdict{};
    const std::size_t j = static_cast<std::size_t>(which) % hs.size();
    const json result = failed ? json{{"$failure", error_name(v)}, {"message", message_of(v)}} : value_of(v);
    auto with_end = [&](const json& end) {
      json prog = head;
      json h = hs;
      // the handler that returns: its body keeps its non-ending actions (traps), then ends with `end`
      auto patch = [&](json& handler) {
        json body = json::array();
        for (const auto& act : handler["do"])
          if (act.is_object() && act.contains("trap")) body.push_back(act);
        body.push_back(end);
        handler["do"] = body;
      };
      if (h[j].contains("callback")) {
        patch(h[j]["callback"]);
      } else {
        patch(h[j]);
      }
      const std::size_t at = static_cast<std::size_t>(fire_at) % (h.size() + 1);
      for (std::size_t i = 0; i <= h.size(); ++i) {
        if (i == at) prog.push_back(fire_step("d0", fv));
        if (i < h.size()) prog.push_back(h[i]);
      }
      return prog;
    };
    const json a = with_end(json{{"returnDeferred", "d1"}});
    const json b = with_end(json{{"return", result}});
    auto drop_d1 = [](json obs) {
      if (obs.is_object() && obs.contains("final")) obs["final"].erase("d1");
      return obs;
    };
    return e.compare(a, b, drop_d1(e.run(a)), drop_d1(e.run(b)),
                     "a handler returning a fired Deferred vs returning its result");
  });
}

Property law(std::string name, std::string rules, std::vector<std::string> needs, void (*fn)(Env&, const Property&)) {
  Property p;
  p.name = std::move(name);
  p.rules = std::move(rules);
  p.needs = std::move(needs);
  p.run = [fn, p](conformance::Implementation& impl, const Features& f, const RunSettings& st, PropertyResult& res) {
    Env env{impl, f, st, res};
    fn(env, p);
  };
  return p;
}

}  // namespace

std::vector<Property> all_properties() {
  std::vector<Property> out;
  for (const auto& prof : standard_profiles()) out.push_back(model_property(prof));
  out.push_back(law("law.handlers-before-or-after-firing", "callback.added-after-firing-runs-at-once",
                    {"core", "synchronous"}, law_before_after));
  out.push_back(law("law.addBoth-is-addCallbacks-same-function",
                    "add-callbacks.addboth-is-addcallbacks-same-function", {"core", "synchronous"}, law_addboth));
  out.push_back(law("law.addCallback-is-addCallbacks-with-passthrough",
                    "add-callbacks.addcallback-passes-failures, add-callbacks.adderrback-passes-values",
                    {"core", "synchronous"}, law_addcallback));
  out.push_back(law("law.chainDeferred-is-addCallbacks-callback-errback", "chaining.chain-deferred",
                    {"core", "synchronous", "chain-deferred"}, law_chain));
  out.push_back(law("law.list-result-independent-of-firing-order",
                    "deferred-list.results-in-member-order, gather.values-in-member-order",
                    {"core", "synchronous", "deferred-list|gather"}, law_list_order));
  out.push_back(law("law.consume-errors-continues-members-with-null",
                    "deferred-list.consume-errors, gather.consume-errors",
                    {"core", "synchronous", "deferred-list|gather"}, law_consume));
  out.push_back(law("law.pause-unpause-around-a-step", "pause.unpause-resumes", {"core", "synchronous", "pause"},
                    law_pause));
  out.push_back(law("law.returning-fired-deferred-is-returning-its-result",
                    "chaining.returned-fired-deferred-value, chaining.returned-fired-deferred-failure",
                    {"core", "synchronous"}, law_returned_fired));
  return out;
}

}  // namespace props

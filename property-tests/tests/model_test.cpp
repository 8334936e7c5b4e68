// Unit tests of the model (the property tests' oracle): hand-written
// scenarios whose expectations come from the documents, and every case of the
// spec that uses only ops the model implements.
#include <gtest/gtest.h>

#include <rapidcheck.h>

#include "conformance/comparator.h"
#include "conformance/spec_loader.h"
#include "gens.h"
#include "keys.h"
#include "model/model.h"
#include "properties.h"
#include "scenario.h"
#include "yaml_out.h"

using json = nlohmann::json;

namespace {

json step(const char* op, const char* target) { return json{{"op", op}, {props::kTargetKey, target}}; }

TEST(Model, CallbackChainPassesResults) {
  json prog = json::array({json{{"op", "new"}, {"name", "d"}}});
  json cb = step("addCallback", "d");
  cb["label"] = "cb";
  cb["do"] = json::array({json{{"return", 2}}});
  prog.push_back(cb);
  json next = step("addCallback", "d");
  next["label"] = "next";
  next["do"] = json::array({"returnArgument"});
  prog.push_back(next);
  json fire = step("callback", "d");
  fire["value"] = 1;
  prog.push_back(fire);
  const json obs = model::run(prog);
  EXPECT_EQ(obs["trace"], json::parse(R"([{"call":"cb","arg":1},{"call":"next","arg":2}])"));
  EXPECT_EQ(obs["final"]["d"], json::parse(R"({"state":"fired","result":2})"));
}

TEST(Model, SecondFireRaisesAlreadyCalled) {
  json prog = json::array({json{{"op", "succeed"}, {"name", "d"}, {"value", 1}}});
  json fire = step("callback", "d");
  fire["value"] = 2;
  prog.push_back(fire);
  const json obs = model::run(prog);
  EXPECT_EQ(obs["trace"], json::parse(R"([{"raised":{"$failure":"AlreadyCalledError"},"step":1}])"));
}

TEST(Model, WaitingStateNamesTheInnerDeferred) {
  json prog = json::array({json{{"op", "new"}, {"name", "inner"}}, json{{"op", "new"}, {"name", "d"}}});
  json cb = step("addCallback", "d");
  cb["label"] = "cb";
  cb["do"] = json::array({json{{"returnDeferred", "inner"}}});
  prog.push_back(cb);
  json fire = step("callback", "d");
  fire["value"] = 1;
  prog.push_back(fire);
  prog.push_back(step("pause", "d"));
  const json obs = model::run(prog);
  EXPECT_EQ(obs["final"]["d"], (json{{"state", "waiting"}, {props::kInnerKey, "inner"}, {"paused", 1}}));
}

TEST(Model, CancelWithoutCancellerSwallowsOneLateResult) {
  json prog = json::array({json{{"op", "new"}, {"name", "d"}}, step("cancel", "d")});
  json fire = step("callback", "d");
  fire["value"] = 1;
  prog.push_back(fire);
  prog.push_back(fire);
  const json obs = model::run(prog);
  EXPECT_EQ(obs["trace"], json::parse(R"([{"raised":{"$failure":"AlreadyCalledError"},"step":3}])"));
  EXPECT_EQ(obs["final"]["d"], json::parse(R"({"state":"fired","result":{"$failure":"CancelledError"}})"));
}

TEST(Model, DeferredListFirstErrorWithFireOnOneErrback) {
  json prog = json::array({json{{"op", "new"}, {"name", "a"}}, json{{"op", "new"}, {"name", "b"}},
                           json{{"op", "DeferredList"}, {"name", "l"}, {"members", {"a", "b"}},
                                {"fireOnOneErrback", true}, {"consumeErrors", true}}});
  json fire = step("errback", "b");
  fire["error"] = "TestErrorA";
  fire["message"] = "m";
  prog.push_back(fire);
  const json obs = model::run(prog);
  EXPECT_EQ(obs["final"]["l"], json::parse(R"({"state":"fired","result":{"$failure":"FirstError","index":1,
      "sub":{"$failure":"TestErrorA","message":"m"}}})"));
  EXPECT_EQ(obs["final"]["b"], json::parse(R"({"state":"fired","result":null})"));
}

// Every spec case whose program uses only ops the model implements must be
// reproduced exactly; mismatches are listed together.
TEST(Model, ReproducesEverySupportedSpecCase) {
  auto loaded = conformance::load_spec(PROPS_SPEC_DIR);
  for (const auto& e : loaded.errors) ADD_FAILURE() << "spec: " << e.str();
  int run = 0, skipped = 0;
  std::string mismatches;
  for (const auto& rule : loaded.spec.rules) {
    for (const auto& c : rule.cases) {
      if (c.features.count("self-chain-error") || !model::supports(c.program)) {
        ++skipped;
        continue;
      }
      ++run;
      json obs;
      try {
        obs = model::run(c.program);
      } catch (const std::exception& e) {
        mismatches += c.full_id + ": model error: " + e.what() + "\n";
        continue;
      }
      if (auto d = conformance::compare_observations(c.expect, obs)) mismatches += c.full_id + ": " + *d + "\n";
    }
  }
  std::cout << "[ model    ] " << run << " spec cases reproduced, " << skipped << " use ops the model lacks\n";
  EXPECT_GT(run, 100);
  EXPECT_TRUE(mismatches.empty()) << mismatches;
}

// The generated programs are valid: the model runs every one of them.
TEST(Model, RunsEveryGeneratedProgram) {
  props::Features all{{"core", "synchronous", "final-state", "extra-args", "pause", "cancel", "chain-deferred",
                       "deferred-list", "gather", "maybe-deferred"}};
  for (const auto& prof : props::standard_profiles()) {
    const auto r = rc::detail::checkTestable(
        [&] {
          props::Scenario s{*props::gens::steps(prof)};
          props::RenderOptions o;
          o.refire = prof.refire_percent > 0;
          const json prog = props::render(s, all, o);
          RC_ASSERT(model::supports(prog));
          model::run(prog);
        },
        rc::detail::TestMetadata{}, rc::detail::TestParams{42, 300, 100, 10, false});
    EXPECT_TRUE(r.template is<rc::detail::SuccessResult>()) << prof.name;
  }
}

TEST(YamlOut, QuotesAmbiguousScalars) {
  EXPECT_EQ(props::yaml_flow(json{{"op", "mark"}, {"label", "on"}}), "{op: mark, label: \"on\"}");
  EXPECT_EQ(props::yaml_flow(json::array({1, "x", nullptr, "1"})), "[1, x, null, \"1\"]");
}

}  // namespace

// The harness itself: against a deliberately wrong implementation (it reports
// TestErrorA1 failures as TestErrorA), the model property fails and prints a
// shrunk, ready-to-paste spec case with the seed.
namespace {
class WrongHierarchy : public conformance::Implementation {
 public:
  conformance::ImplementationInfo info() override { return {"wrong", "0", "c++", "", {"core", "synchronous", "final-state"}}; }
  conformance::Outcome run(const std::string&, const json& program) override {
    std::string text = model::run(program).dump();
    for (std::size_t at; (at = text.find("\"TestErrorA1\"")) != std::string::npos;) text.replace(at, 13, "\"TestErrorA\"");
    return conformance::Outcome::observed(json::parse(text));
  }
};
}  // namespace

TEST(Harness, FailingPropertyPrintsAShrunkSpecCase) {
  WrongHierarchy impl;
  props::Features f{impl.info().features};
  props::RunSettings st;
  st.scenarios = 500;
  st.seed = 99;
  st.impl_name = "wrong";
  for (const auto& p : props::all_properties()) {
    if (p.name != "model.errbacks") continue;
    props::PropertyResult r;
    p.run(impl, f, st, r);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.report.find("- id: property-model-errbacks-99"), std::string::npos) << r.report;
    EXPECT_NE(r.report.find("program:"), std::string::npos);
    EXPECT_NE(r.report.find("# observed (wrong):"), std::string::npos);
    EXPECT_NE(r.report.find("--seed 99"), std::string::npos);
    std::cout << r.report;
  }
}

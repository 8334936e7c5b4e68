#include <gtest/gtest.h>

#include "conformance/spec_loader.h"
#include "test_util.h"

using namespace conformance;

namespace {

const char* kHeader = R"(format: 1
area: t
title: T
rules:
  - id: t.rule
    title: A rule
    statement: Something.
    source:
      - {doc: doc, section: "Callbacks, and more"}
    level: must
    features: [core]
    cases:
)";

// A rule file whose only case has this program (indented as list items under `program:`).
std::string with_program(const std::string& steps, const std::string& expect = "          trace: []\n") {
  return std::string(kHeader) + "      - id: c\n        description: d\n        program:\n" + steps +
         "        expect:\n" + expect;
}

std::vector<std::string> errors_of(const std::string& yaml) {
  auto dir = ct::make_spec(yaml);
  auto r = load_spec(dir);
  std::vector<std::string> out;
  for (auto& e : r.errors) {
    auto s = e.str();
    out.push_back(s.substr(s.find("rules/") == std::string::npos ? 0 : s.find("rules/")));
  }
  std::filesystem::remove_all(dir);
  return out;
}

::testing::AssertionResult has_error(const std::vector<std::string>& errs, const std::string& needle) {
  for (auto& e : errs)
    if (e.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure() << "no error containing '" << needle << "'; got:";
  for (auto& e : errs) r << "\n  " << e;
  return r;
}

}  // namespace

TEST(Loader, GoodSpecLoads) {
  auto r = load_spec(std::filesystem::path(CT_SPECS) / "good");
  ASSERT_TRUE(r.ok()) << r.errors.front().str();
  EXPECT_EQ(r.spec.version, "9.9.9");
  ASSERT_EQ(r.spec.rules.size(), 6u);
  const auto& c = r.spec.rules[0].cases[0];
  EXPECT_EQ(c.full_id, "basic.callback-runs/value");
  EXPECT_EQ(c.program[2]["value"], 1);
  EXPECT_TRUE(c.program[2]["value"].is_number_integer());
  EXPECT_TRUE(r.spec.rules[0].cases[1].program[0]["value"].is_number_float());
  EXPECT_TRUE(r.spec.rules[4].cases[0].program[0]["value"].is_string());  // "x"
  EXPECT_EQ(r.spec.rules[2].cases[0].features, (std::set<std::string>{"core", "pause"}));
}

TEST(Loader, ScalarTypes) {
  auto dir = ct::make_spec(with_program(
      "          - {op: succeed, name: a, value: [1, \"1\", 1.5, true, \"true\", null, \"null\", ~, '2', abc]}\n"));
  auto r = load_spec(dir);
  ASSERT_TRUE(r.ok()) << r.errors.front().str();
  auto v = r.spec.rules[0].cases[0].program[0]["value"];
  EXPECT_EQ(v, nlohmann::json::parse(R"([1, "1", 1.5, true, "true", null, "null", null, "2", "abc"])"));
  std::filesystem::remove_all(dir);
}

TEST(Loader, MalformedYaml) {
  EXPECT_TRUE(has_error(errors_of("format: 1\nrules: [\n  - a\n"), "rules/t.yaml:"));
  EXPECT_TRUE(has_error(errors_of("format: 1\nrules: [\n  - a\n"), "malformed YAML"));
}

TEST(Loader, AmbiguousScalar) {
  EXPECT_TRUE(has_error(errors_of(with_program("          - {op: succeed, name: a, value: yes}\n")),
                        "rules/t.yaml:16: ambiguous plain scalar 'yes'"));
}

TEST(Loader, UnknownAndMissingFields) {
  auto errs = errors_of(std::string(kHeader) + "      - id: c\n        descriptoin: d\n        program: []\n        expect: {}\n");
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:14: unknown field 'descriptoin' in case"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:13: missing field 'description' in case"));
}

TEST(Loader, WrongTypes) {
  auto errs = errors_of(std::string(kHeader) + "      - id: c\n        description: [d]\n        program: {}\n        expect: []\n");
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:14: description must be a string"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:15: program must be a list"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:16: expect must be a mapping"));
}

TEST(Loader, UnknownOpAndWrongFields) {
  auto errs = errors_of(with_program("          - {op: new, name: d}\n          - {op: frob, target: d}\n"
                                     "          - {op: callback, target: d, vlaue: 1}\n"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:17: unknown step op 'frob'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:18: unknown field 'vlaue' in op 'callback'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:18: missing field 'value' in op 'callback'"));
}

TEST(Loader, BodyActions) {
  auto errs = errors_of(with_program(
      "          - {op: new, name: d}\n"
      "          - {op: addCallback, target: d, label: cb, do: [returnArgument, {return: 1}]}\n"
      "          - {op: addCallback, target: d, label: cb2, do: [{explode: 1}]}\n"
      "          - {op: addCallback, target: d, label: cb3, do: [{trap: [NoSuchError]}]}\n"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:17: unreachable action"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:18: unknown action"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:19: unknown error type 'NoSuchError'"));
}

TEST(Loader, DuplicateIds) {
  std::string y = with_program("          - {op: new, name: d}\n") +
                  "      - id: c\n        description: d\n        program: []\n        expect: {}\n"
                  "  - id: t.rule\n    title: t\n    statement: s\n    source: [{api: x}]\n    level: must\n"
                  "    features: [core]\n    cases:\n      - {id: c, description: d, program: [], expect: {}}\n";
  auto errs = errors_of(y);
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:19: duplicate case id 'c' in rule 't.rule' (first at line 13)"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:23: duplicate rule id 't.rule'"));
}

TEST(Loader, UnknownFeatureAndSources) {
  std::string y = kHeader;
  y.replace(y.find("features: [core]"), 16, "features: [core, warp]");
  const std::string cite = "{doc: doc, section: \"Callbacks, and more\"}";
  y.replace(y.find(cite), cite.size(), "{doc: nodoc, section: X}\n      - {doc: doc, section: Nope}");
  auto errs = errors_of(y + "      - {id: c, description: d, program: [], expect: {}}\n");
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:12: unknown feature 'warp'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:9: unknown source document 'nodoc'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:10: unknown section 'Nope' of document 'doc'"));
}

TEST(Loader, Names) {
  auto errs = errors_of(with_program(
      "          - {op: callback, target: d, value: 1}\n"                        // 14: before creation
      "          - {op: new, name: d}\n"                                     // 15
      "          - {op: new, name: d}\n"                                     // 16: twice
      "          - {op: addCallback, target: d, label: cb, do: [{returnDeferred: later}]}\n"  // ok: body
      "          - {op: addCallback, target: d, label: cb, do: [{returnDeferred: nowhere}]}\n"  // 18
      "          - {op: new, name: later}\n"
      "          - {op: callback, target: ghost, value: 1}\n"                    // 20
      "          - {op: drop, target: later}\n"
      "          - {op: cancel, target: later}\n"));                            // 22
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:16: name 'd' is used before it is created"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:18: name 'd' is created twice (first at line 17)"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:20: undefined name 'nowhere'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:22: undefined name 'ghost'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:24: name 'later' is used after it was dropped"));
  for (auto& e : errs) EXPECT_EQ(e.find("'later' is used before"), std::string::npos) << e;
}

TEST(Loader, ValueEncodings) {
  auto errs = errors_of(with_program(
      "          - {op: succeed, name: a, value: {$weird: 1}}\n"
      "          - {op: succeed, name: b, value: {$failure: NoSuchError, message: m}}\n"
      "          - {op: succeed, name: c, value: {$failure: CancelledError, message: m}}\n"
      "          - {op: succeed, name: e, value: {$failure: TestError}}\n",
      "          trace:\n            - {call: x, arg: {$deferred: zz}}\n"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:16: unknown reserved key '$weird'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:17: unknown error type 'NoSuchError'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:18: CancelledError is a library error"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:19: missing field 'message'"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:22: undefined name 'zz'"));
}

TEST(Loader, ExpectShapes) {
  auto errs = errors_of(with_program("          - {op: new, name: d}\n",
                                     "          trace:\n            - {calls: x}\n"
                                     "            - {raised: {$failure: CancelledError}, step: 5}\n"
                                     "          final:\n            d: {state: exploded}\n"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:19: unknown trace event"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:20: step 5 is not a top-level step"));
  EXPECT_TRUE(has_error(errs, "rules/t.yaml:22: unknown state 'exploded'"));
}

TEST(Loader, CollectsAllErrorsAcrossFiles) {
  auto dir = ct::make_spec(with_program("          - {op: frob}\n"), "a.yaml");
  std::ofstream(dir / "rules" / "b.yaml") << with_program("          - {op: frob2}\n");
  auto r = load_spec(dir);
  ASSERT_EQ(r.errors.size(), 3u);  // frob, frob2, duplicate rule id
  EXPECT_NE(r.errors[0].str().find("a.yaml:16: unknown step op 'frob'"), std::string::npos);
  EXPECT_NE(r.errors[1].str().find("b.yaml:5: duplicate rule id"), std::string::npos);
  EXPECT_NE(r.errors[2].str().find("b.yaml:16: unknown step op 'frob2'"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Loader, HostileInput) {
  std::string deep = "format: 1\nx: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  EXPECT_TRUE(has_error(errors_of(deep + "\n"), "nesting deeper than 64"));
  // Far deeper than any stack would survive if the parser recursed freely.
  std::string abyss = "format: 1\nx: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  EXPECT_TRUE(has_error(errors_of(abyss), "rules/t.yaml:2: malformed YAML: nesting deeper than 64"));
  // A key given twice: an error at the second, never a silent choice.
  EXPECT_TRUE(has_error(errors_of(with_program("          - {op: new, name: d, name: e}\n")), "duplicate key 'name'"));
  // Billion laughs: aliases expand exponentially.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev)
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  EXPECT_TRUE(has_error(errors_of(bomb), "document too large"));
  LoadLimits small;
  small.max_file_bytes = 100;
  auto dir = ct::make_spec(with_program("          - {op: new, name: d}\n"));
  auto r = load_spec(dir, small);
  EXPECT_TRUE(has_error({r.errors.empty() ? "" : r.errors.back().str()}, "file too large"));
  std::filesystem::remove_all(dir);
}

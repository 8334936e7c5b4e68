#include <gtest/gtest.h>

#include <sstream>

#include "conformance/expectations.h"
#include "conformance/reporters.h"
#include "conformance/runner.h"
#include "conformance/spec_loader.h"

using namespace conformance;
using nlohmann::json;

namespace {

// An in-process implementation answering from a table (and misbehaving on demand).
class TableImpl : public Implementation {
 public:
  ImplementationInfo info() override { return {"table", "1", "c++", "", {"core"}}; }
  Outcome run(const std::string& id, const json&) override {
    if (id == "basic.victim/target") return Outcome::errored("boom <&> \"quoted\" \x01 \xff");
    if (id == "basic.after/succeed") throw std::runtime_error("thrown");
    if (id == "basic.known-bad/differs") return Outcome::observed(json::parse(R"({"trace": [], "final": {}})"));
    if (id == "basic.callback-runs/value")
      return Outcome::observed(json::parse(R"({"trace": [{"call": "cb", "arg": 1}], "final": {"d": {"state": "fired", "result": 1}}})"));
    return Outcome::skipped("not in the table");
  }
};

struct Fixture : ::testing::Test {
  LoadResult loaded = load_spec(std::filesystem::path(CT_SPECS) / "good");
  TableImpl impl;
  RunReport run(const RunOptions& o = {}) { return run_spec(loaded.spec, impl, impl.info(), o); }
};

}  // namespace

TEST_F(Fixture, StatusesAndCounts) {
  ASSERT_TRUE(loaded.ok());
  auto r = run();
  const auto& s = r.summary;
  EXPECT_EQ(s.cases, 7);
  EXPECT_EQ(s.rules, 6);
  EXPECT_EQ(s.passed, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.errored, 2);
  EXPECT_EQ(s.skipped, 3);  // table skip x2 + lacking feature pause
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.results[3].message, "the implementation lacks feature(s): pause");
  EXPECT_EQ(r.results[5].message, "the implementation threw: thrown");
}

TEST_F(Fixture, JsonCountsAddUp) {
  auto j = report_to_json(run());
  const auto& s = j["summary"];
  EXPECT_EQ(s["cases"].get<int>(), s["passed"].get<int>() + s["failed"].get<int>() + s["skipped"].get<int>() +
                                        s["errored"].get<int>() + s["expected_failures"].get<int>() +
                                        s["unexpected_passes"].get<int>());
  EXPECT_EQ(j["results"].size(), 7u);
  EXPECT_EQ(j["implementation"]["name"], "table");
  EXPECT_EQ(j["spec_version"], "9.9.9");
  EXPECT_EQ(j["results"][6]["status"], "fail");
  EXPECT_TRUE(j["results"][6].contains("diff"));
  std::ostringstream out;
  write_json(run(), out);
  EXPECT_FALSE(json::parse(out.str(), nullptr, false).is_discarded());
}

TEST_F(Fixture, JunitIsWellFormed) {
  std::ostringstream out;
  write_junit(run(), out);
  const std::string x = out.str();
  EXPECT_NE(x.find("<testsuite name=\"basic\" tests=\"7\" failures=\"1\" errors=\"2\" skipped=\"3\""), std::string::npos);
  EXPECT_NE(x.find("boom &lt;&amp;&gt; &quot;quoted&quot; ? ?"), std::string::npos) << x;
  // Balanced tags and no raw control characters.
  auto count = [&](const std::string& s) {
    std::size_t n = 0;
    for (std::size_t p = 0; (p = x.find(s, p)) != std::string::npos; ++p) ++n;
    return n;
  };
  EXPECT_EQ(count("<testcase "), 7u);
  EXPECT_EQ(count("<testcase ") - count("/>\n") + count("<skipped "), count("</testcase>"));
  EXPECT_EQ(count("<testsuite "), count("</testsuite>"));
  for (char c : x) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n');
}

TEST_F(Fixture, TextAndMarkdown) {
  std::ostringstream t, m;
  auto r = run();
  write_text(r, t);
  write_markdown(r, m);
  EXPECT_NE(t.str().find("FAIL  basic.known-bad"), std::string::npos);
  EXPECT_NE(t.str().find("FAILED: 7 cases in 6 rules"), std::string::npos);
  EXPECT_NE(t.str().find("source: api twisted.internet.defer.Deferred.addCallback"), std::string::npos);
  EXPECT_NE(m.str().find("| 6 | 7 | 1 | 1 | 3 | 2 | 0 | 0 |"), std::string::npos) << m.str();
}

TEST_F(Fixture, FiltersAndFeatures) {
  RunOptions o;
  o.filters = {"basic.callback-runs", "basic.after/*"};
  EXPECT_EQ(run(o).summary.cases, 3);
  o.filters = {"*/boom"};
  EXPECT_EQ(run(o).summary.cases, 1);
  RunOptions f;
  f.features = std::set<std::string>{"core"};
  EXPECT_EQ(run(f).summary.cases, 6);  // the pause case is not selected
}

TEST_F(Fixture, Expectations) {
  auto ex = Expectations::parse(
      "expected-failures:\n  - id: basic.known-bad/differs\n    reason: known\n  - basic.victim\n"
      "  - basic.callback-runs/value\n  - no.such/case\n");
  RunOptions o;
  o.expectations = &ex;
  auto r = run(o);
  EXPECT_EQ(r.summary.expected_failures, 2);
  EXPECT_EQ(r.summary.unexpected_passes, 1);
  EXPECT_EQ(r.results[6].reason, "known");
  EXPECT_EQ(r.unused_expectations, std::vector<std::string>{"no.such/case"});
  EXPECT_EQ(r.exit_code(), 1);
  // Round trip of the written format.
  auto written = failures_as_expectations(r);
  auto back = Expectations::parse(written.to_yaml("header"));
  ASSERT_EQ(back.entries().size(), written.entries().size());
  EXPECT_EQ(back.entries()[0].id, written.entries()[0].id);
  EXPECT_EQ(back.entries()[0].reason, written.entries()[0].reason);
  EXPECT_THROW(Expectations::parse("expected-failures: [\n"), std::runtime_error);
  EXPECT_THROW(Expectations::parse("nope: []\n"), std::runtime_error);
  EXPECT_EQ(Expectations::parse("[a.b, {id: c.d, reason: r}]").entries().size(), 2u);
}

TEST(SanitizeText, KeepsValidUtf8AndReplacesEverythingElse) {
  // Valid: 2, 3 and 4 bytes (é, €, 𝄞), tab and newline.
  EXPECT_EQ(sanitize_text("a\tb\n\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e"), "a\tb\n\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e");
  EXPECT_EQ(sanitize_text("\x01\x7f"), "??");                  // control characters
  EXPECT_EQ(sanitize_text("\xc0\xaf"), "??");                  // overlong 2-byte lead
  EXPECT_EQ(sanitize_text("\xe0\x80\xaf"), "???");             // overlong 3 bytes
  EXPECT_EQ(sanitize_text("\xed\xa0\x80"), "???");             // a UTF-16 surrogate
  EXPECT_EQ(sanitize_text("\xf0\x80\x80\xaf"), "????");        // overlong 4 bytes
  EXPECT_EQ(sanitize_text("\xf4\x90\x80\x80"), "????");        // above U+10FFFF
  EXPECT_EQ(sanitize_text("\xe2\x82x"), "??x");                // a continuation byte missing
  EXPECT_EQ(sanitize_text("\xe2\x82"), "??");                  // cut short at the end
  EXPECT_EQ(sanitize_text("\xf5\x80\x80\x80"), "????");        // no such lead byte...
  EXPECT_EQ(sanitize_text("\xff\x80\x80"), "???");             // ...was read as a 3-byte one
}

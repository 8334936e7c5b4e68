// yaml_to_json: the scalar types a reader expects, and the refusals of what
// YAML readers disagree on (yaml_json.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "conformance/yaml_json.h"

using namespace conformance;
using nlohmann::json;

namespace {

struct Converted {
  json value;
  std::vector<std::string> issues;  // "LINE: message"
};

Converted convert(const std::string& yaml, const YamlConvertOptions& options = {}) {
  std::vector<YamlIssue> issues;
  Converted c{yaml_to_json(YAML::Load(yaml), issues, options), {}};
  for (const auto& i : issues) c.issues.push_back(std::to_string(i.line) + ": " + i.message);
  return c;
}

// The plain scalar `text` converts to `expected` without an issue.
void expect_scalar(const std::string& text, const json& expected) {
  const Converted c = convert(text);
  EXPECT_EQ(c.value, expected) << text;
  EXPECT_EQ(c.value.type(), expected.type()) << text;
  EXPECT_TRUE(c.issues.empty()) << text << ": " << c.issues.front();
}

// The plain scalar `text` is refused with `issue` (and kept as a string).
void expect_refused(const std::string& text, const std::string& issue) {
  const Converted c = convert(text);
  EXPECT_EQ(c.value, json(text)) << text;
  ASSERT_EQ(c.issues.size(), 1u) << text;
  EXPECT_EQ(c.issues[0], "1: " + issue);
}

}  // namespace

TEST(YamlJson, PlainNumbers) {
  expect_scalar("0", 0);
  expect_scalar("-7", -7);
  expect_scalar("+7", 7);
  expect_scalar("9223372036854775807", INT64_MAX);
  expect_scalar("1.5", 1.5);
  expect_scalar(".5", 0.5);
  expect_scalar("-.5", -0.5);
  expect_scalar("2.", 2.0);
  expect_scalar("1e3", 1000.0);
  expect_scalar("+1.5E-1", 0.15);
  expect_scalar("-2e+2", -200.0);
}

TEST(YamlJson, ScalarsThatOnlyLookLikeNumbersAreStrings) {
  expect_scalar("1e", "1e");
  expect_scalar("1e+", "1e+");
  expect_scalar(".e1", ".e1");
  expect_scalar("+", "+");
  expect_scalar("1.2.3", "1.2.3");
  expect_scalar("12ab", "12ab");
}

TEST(YamlJson, QuotedAndTaggedStringsStayStrings) {
  expect_scalar("'12'", "12");
  expect_scalar("!!str 12", "12");
  expect_scalar("! 12", "12");
  expect_scalar("\"true\"", "true");
}

TEST(YamlJson, RefusesWhatYamlReadersDisagreeOn) {
  expect_refused("012", "ambiguous number '012' (leading zero): quote it or drop the zero");
  expect_refused("-012", "ambiguous number '-012' (leading zero): quote it or drop the zero");
  expect_refused("9223372036854775808", "integer out of range: 9223372036854775808");
  expect_refused("0x1F", "non-decimal number '0x1F': write it in decimal, or quote it");
  expect_refused("0o17", "non-decimal number '0o17': write it in decimal, or quote it");
  expect_refused("0b101", "non-decimal number '0b101': write it in decimal, or quote it");
  expect_refused(".inf", "'.inf' has no JSON representation");
  expect_refused("-.Inf", "'-.Inf' has no JSON representation");
  expect_refused(".NaN", "'.NaN' has no JSON representation");
  expect_refused("Off", "ambiguous plain scalar 'Off': quote it for a string, or use true/false");
}

TEST(YamlJson, RefusesOtherTags) {
  const Converted c = convert("!!int 3");
  EXPECT_EQ(c.value, "3");
  EXPECT_EQ(c.issues, (std::vector<std::string>{"1: unsupported YAML tag 'tag:yaml.org,2002:int'"}));
}

TEST(YamlJson, MappingKeysMustBePlainStrings) {
  const Converted c = convert("a: 1\n[x, y]: 2\nb: 3\n");
  EXPECT_EQ(c.value, json::parse(R"({"a": 1, "b": 3})"));
  EXPECT_EQ(c.issues, (std::vector<std::string>{"2: mapping keys must be plain strings"}));
}

TEST(YamlJson, NullsAndBooleans) {
  const Converted c = convert("[~, null, Null, NULL, '', true, True, TRUE, false, False, FALSE]");
  EXPECT_EQ(c.value, json::parse(R"([null, null, null, null, "", true, true, true, false, false, false])"));
  EXPECT_TRUE(c.issues.empty());
  EXPECT_EQ(convert("a:\n").value, json::parse(R"({"a": null})"));
}

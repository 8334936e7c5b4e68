#include <gtest/gtest.h>

#include "conformance/comparator.h"

using namespace conformance;
using nlohmann::json;

TEST(Comparator, NumbersByValue) {
  EXPECT_TRUE(values_equal(json(1), json(1.0)));
  EXPECT_TRUE(values_equal(json::parse(R"({"a": [1, {"b": 2}]})"), json::parse(R"({"a": [1.0, {"b": 2.0}]})")));
  EXPECT_FALSE(values_equal(json(1), json("1")));
  EXPECT_FALSE(values_equal(json(nullptr), json(false)));
  EXPECT_FALSE(values_equal(json::parse(R"({"a": 1})"), json::parse(R"({"a": 1, "b": 2})")));
}

TEST(Comparator, Equal) {
  auto e = json::parse(R"({"trace": [{"call": "cb", "arg": 1}], "final": {"d": {"state": "fired", "result": 1}}})");
  auto o = json::parse(R"({"trace": [{"call": "cb", "arg": 1.0}], "final": {"d": {"state": "fired", "result": 1}}})");
  EXPECT_EQ(compare_observations(e, o), std::nullopt);
}

TEST(Comparator, FirstTraceDifference) {
  auto e = json::parse(R"({"trace": [{"mark": "a"}, {"call": "eb", "arg": {"$failure": "TestError", "message": "boom"}}]})");
  auto o = json::parse(R"({"trace": [{"mark": "a"}, {"call": "cb", "arg": 1}], "final": {}})");
  EXPECT_EQ(*compare_observations(e, o),
            "trace[1]: expected {call: eb, arg: {$failure: TestError, message: boom}} observed {call: cb, arg: 1}");
}

TEST(Comparator, MissingAndExtraTrace) {
  auto e = json::parse(R"({"trace": [{"mark": "a"}, {"mark": "b"}]})");
  EXPECT_NE(compare_observations(e, json::parse(R"({"trace": [{"mark": "a"}]})"))->find("trace[1]: expected {mark: b}, missing"),
            std::string::npos);
  auto e2 = json::parse(R"({"trace": [{"mark": "a"}]})");
  EXPECT_NE(compare_observations(e2, json::parse(R"({"trace": [{"mark": "a"}, {"mark": "z"}]})"))
                ->find("trace[1]: unexpected extra entry {mark: z}"),
            std::string::npos);
}

TEST(Comparator, Final) {
  auto e = json::parse(R"({"trace": [], "final": {"d": {"state": "fired", "result": 2}, "e": {"state": "pending"}}})");
  EXPECT_EQ(*compare_observations(e, json::parse(R"({"trace": [], "final": {"d": {"state": "pending"}, "e": {"state": "pending"}}})")),
            "final.d: expected {state: fired, result: 2} observed {state: pending}");
  EXPECT_NE(compare_observations(e, json::parse(R"({"trace": [], "final": {"d": {"state": "fired", "result": 2}}})"))
                ->find("final.e: expected {state: pending}, missing"),
            std::string::npos);
  EXPECT_NE(compare_observations(e, json::parse(R"({"trace": [], "final": {"d": {"state": "fired", "result": 2}, "e": {"state": "pending"}, "x": {"state": "pending"}}})"))
                ->find("final.x: unexpected"),
            std::string::npos);
  // No `final` in the case: final states are not compared.
  EXPECT_EQ(compare_observations(json::parse(R"({"trace": []})"), json::parse(R"({"trace": [], "final": {"q": 1}})")),
            std::nullopt);
}

TEST(Comparator, MalformedObservations) {
  EXPECT_TRUE(compare_observations(json::parse(R"({"trace": []})"), json(3)).has_value());
  EXPECT_TRUE(compare_observations(json::parse(R"({"trace": []})"), json::parse(R"({"trace": 3})")).has_value());
  EXPECT_TRUE(compare_observations(json::parse(R"({"final": {}})"), json::parse(R"({"trace": []})")).has_value());
}

TEST(Comparator, Rendering) {
  EXPECT_EQ(render_value(json::parse(R"({"s": "two words", "n": "1", "b": "true", "e": ""})")),
            R"({b: "true", e: "", n: "1", s: two words})");
  EXPECT_EQ(render_value(json(std::string(1000, 'x')), 10), "xxxxxxxxxx...");
}

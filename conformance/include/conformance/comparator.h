// Exact comparison of what an implementation observed with what a case expects.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace conformance {

// Deep equality where numbers compare by value (1 == 1.0) and objects by key set.
bool values_equal(const nlohmann::json& a, const nlohmann::json& b);

// Compact, YAML-flow-like rendering: {call: eb, arg: {$failure: TestError, message: boom}}.
// Longer renderings are cut at `max_chars` with "...".
std::string render_value(const nlohmann::json& v, std::size_t max_chars = 400);

// Compares `observed` with `expected` (a case's `expect`). The trace is compared
// element by element (an absent expected trace means []); the final states are
// compared only when the case states `final`. Returns nullopt when equal, else a
// readable description of the FIRST difference, e.g.
//   trace[2]: expected {call: eb, ...} observed {call: cb, ...}
//   final.d: expected {state: fired, result: 2} observed {state: pending}
std::optional<std::string> compare_observations(const nlohmann::json& expected, const nlohmann::json& observed);

}  // namespace conformance

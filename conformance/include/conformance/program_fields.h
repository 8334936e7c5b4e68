// Reading the fields of a step of a case's program (spec/schema; the
// protocol's `run` request), for adapters that interpret programs in
// process. A program an adapter cannot run throws ProgramError, which the
// adapter reports as an `errored` outcome, never as observed behaviour.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace conformance {

// A program the adapter cannot run: unknown op, missing or mistyped field,
// unknown name.
struct ProgramError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The field `name` of `step`; throws ProgramError if it is missing.
inline const nlohmann::json& field(const nlohmann::json& step, const char* name) {
  auto it = step.find(name);
  if (it == step.end()) throw ProgramError(std::string("missing field '") + name + "'");
  return *it;
}

// The string field `name`; throws ProgramError if missing or not a string.
inline std::string stringField(const nlohmann::json& step, const char* name) {
  const nlohmann::json& value = field(step, name);
  if (!value.is_string()) throw ProgramError(std::string("field '") + name + "' must be a string");
  return value.get<std::string>();
}

// The string field `name`, or "" when it is absent or not a string.
inline std::string optionalString(const nlohmann::json& step, const char* name) {
  auto it = step.find(name);
  return it != step.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace conformance

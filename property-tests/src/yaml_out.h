// Renders programs and observations in the spec's YAML style, so a failing
// property's counterexample can be pasted into spec/rules/*.yaml.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace props {

// One value in YAML flow style: {op: new, name: d0}, [1, x], "on", ...
std::string yaml_flow(const nlohmann::json& v);

// A spec case:
//   - id: ID
//     description: DESCRIPTION
//     program:
//       - {op: ...}
//     expect:
//       trace: [...]
//       final: {...}
// `expect` is written as given (may be null: then "expect: {}" with a comment).
// `observed` (may be null) is appended as a comment block, with `note`.
std::string yaml_case(const std::string& id, const std::string& description, const nlohmann::json& program,
                      const nlohmann::json& expect, const nlohmann::json& observed, const std::string& observed_by,
                      const std::string& note, const std::string& indent = "  ");

}  // namespace props

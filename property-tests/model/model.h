// The executable model: the oracle of the property tests.
//
// A small interpreter of the step language (spec/README.md) over its own
// little Deferred, written from the documented rules and Twisted 22.4's
// defer.py for clarity, not speed. It shares no code with the reference
// implementation. Given a program it computes the observations
// ({"trace": [...], "final": {...}}) a faithful implementation must report.
#pragma once

#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace model {

// The program uses something the model does not implement (an op such as
// addTimeout or drop, a lock, a coroutine...), or is not a valid program.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `program` (a JSON list of steps) from a fresh state. Throws Unsupported.
nlohmann::json run(const nlohmann::json& program);

// The step ops the model implements (top level and inside handler bodies).
const std::set<std::string>& supported_ops();

// True if every step of `program` (including steps nested in handler bodies
// and cancellers) is an op the model implements.
bool supports(const nlohmann::json& program);

}  // namespace model

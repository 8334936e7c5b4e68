// The properties: (1) the implementation observes what the model computes,
// for random scenarios of several profiles; (2) laws that need no model
// (two programs run against the implementation, observations compared).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/implementation.h"
#include "scenario.h"

namespace props {

struct RunSettings {
  int scenarios = 1000;     // per property
  std::uint64_t seed = 0;
  int max_size = 100;
  bool shrink = true;
  std::string impl_name;  // for the reproduce line
  int show = 0;           // print the first N programs of each model property (to stderr)
};

// What one property run produced.
struct PropertyResult {
  std::string name;
  std::string rules;
  bool skipped = false;    // the implementation lacks a feature it needs
  std::string skip_reason;
  bool passed = true;
  int scenarios = 0;       // scenarios run (successes + the failing one)
  long impl_runs = 0;      // programs sent to the implementation
  double seconds = 0;
  std::string report;      // the counterexample (spec-case YAML) and how to reproduce
};

struct Property {
  std::string name;
  std::string rules;  // spec rule ids it generalises ("model" for the model-agreement ones)
  std::vector<std::string> needs;  // features
  // Runs the property; fills the result.
  std::function<void(conformance::Implementation&, const Features&, const RunSettings&, PropertyResult&)> run;
};

std::vector<Property> all_properties();

// Runs `program` against `impl` and returns the observations; throws
// std::runtime_error when the outcome is errored, and returns null when skipped.
nlohmann::json observe(conformance::Implementation& impl, const nlohmann::json& program);

// Normalisations used by the laws.
nlohmann::json without_marks(nlohmann::json obs);
nlohmann::json without_labels(nlohmann::json obs, const std::string& prefix);
nlohmann::json only_labels(nlohmann::json obs, const std::string& prefix);

}  // namespace props

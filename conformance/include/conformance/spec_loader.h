// Loads and validates a spec directory. Every problem is collected (not just
// the first) as `file:line: what is wrong`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "conformance/spec.h"

namespace conformance {

struct SpecError {
  Location where;
  std::string message;
  std::string str() const { return where.str() + ": " + message; }
};

struct LoadResult {
  Spec spec;
  std::vector<SpecError> errors;
  bool ok() const { return errors.empty(); }
};

struct LoadLimits {
  std::uintmax_t max_file_bytes = 8u << 20;  // larger files are refused
  int max_depth = 64;                        // deeper nesting is refused
  std::size_t max_nodes = 1'000'000;         // per file, after alias expansion
};

LoadResult load_spec(const std::filesystem::path& dir, const LoadLimits& limits = {});

// Loads one rule file given as YAML text, as if it were the file `shown`,
// against the registries (features, errors, sources, format) of `registries`
// (normally a spec loaded by load_spec). The result's spec is `registries`
// with only this file's rules; errors are reported as for load_spec.
LoadResult load_rule_text(const Spec& registries, const std::string& text, const std::string& shown = "rules/text.yaml",
                          const LoadLimits& limits = {});

}  // namespace conformance

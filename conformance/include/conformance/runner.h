// Selects cases (filters, features), runs them against an Implementation,
// compares, and applies the expectations file.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conformance/expectations.h"
#include "conformance/implementation.h"
#include "conformance/spec.h"

namespace conformance {

enum class Status { passed, failed, skipped, errored, expected_failure, unexpected_pass };

// "pass", "fail", "skip", "error", "expected-fail", "unexpected-pass"
const char* status_name(Status s);

struct CaseResult {
  const Rule* rule = nullptr;
  const Case* kase = nullptr;
  Status status = Status::errored;
  std::string diff;     // fail (and expected-fail of a failure): the first difference
  std::string message;  // error: what went wrong; skip: why
  std::string reason;   // expected-fail / unexpected-pass: the expectations entry's reason
  std::string details;  // error: extra text (driver stderr tail...)
  double seconds = 0;
};

struct Summary {
  int rules = 0;  // rules with at least one selected case
  int cases = 0;  // = passed + failed + skipped + errored + expected_failures + unexpected_passes
  int passed = 0, failed = 0, skipped = 0, errored = 0, expected_failures = 0, unexpected_passes = 0;
};

struct RunReport {
  ImplementationInfo implementation;
  std::string spec_version;
  std::vector<CaseResult> results;  // spec order
  Summary summary;
  std::vector<std::string> unused_expectations;  // entries matching no selected case
  double seconds = 0;
  // 0 when every applicable case passed (or failed as expected), else 1.
  int exit_code() const;
};

struct RunOptions {
  std::vector<std::string> filters;                // globs over rule id and RULE/CASE; any match selects
  std::optional<std::set<std::string>> features;   // only cases needing nothing else
  const Expectations* expectations = nullptr;
  std::function<void(const CaseResult&)> on_result;  // progress callback
};

// Does the pattern list select this case? (empty list: everything)
bool filter_matches(const std::vector<std::string>& filters, const std::string& rule_id, const std::string& full_id);

// The selected cases, in spec order.
std::vector<std::pair<const Rule*, const Case*>> select_cases(const Spec& spec, const RunOptions& options);

RunReport run_spec(const Spec& spec, Implementation& impl, const ImplementationInfo& info, const RunOptions& options);

// The current failures and errors, as an expectations file.
Expectations failures_as_expectations(const RunReport& report);

}  // namespace conformance

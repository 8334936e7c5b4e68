// Expectations files: the known failures of one implementation.
//
// Format (YAML; JSON is accepted too since it is YAML):
//
//   # conform expectations for twisted
//   expected-failures:
//     - id: errback.recovers-on-non-failure/returns-value   # a case
//       reason: why it fails (optional)
//     - id: cancel.suppresses-late-result                  # a rule: all its cases
//     - queue.overflow/backlog                             # plain string form
//
// A bare top-level list (of ids or {id, reason}) is accepted as well.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace conformance {

struct ExpectedFailure {
  std::string id;      // RULE/CASE or RULE
  std::string reason;  // may be empty
  int line = 0;
};

class Expectations {
 public:
  // Throws std::runtime_error("file:line: what") on a malformed file.
  static Expectations load(const std::filesystem::path& file);
  static Expectations parse(const std::string& text, const std::string& name = "<expectations>");

  void add(ExpectedFailure e) {
    entries_.push_back(std::move(e));
    index_.clear();
  }
  // The entry covering this case (by case id first, then rule id), if any.
  const ExpectedFailure* find(const std::string& rule_id, const std::string& full_case_id) const;
  const std::vector<ExpectedFailure>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  std::string to_yaml(const std::string& header_comment = {}) const;

 private:
  std::vector<ExpectedFailure> entries_;
  mutable std::map<std::string, std::size_t> index_;  // id -> first entry, built on demand
};

}  // namespace conformance

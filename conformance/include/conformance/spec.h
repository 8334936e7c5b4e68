// The loaded specification: spec/spec.yaml, features.yaml, errors.yaml,
// sources.yaml and every spec/rules/*.yaml, validated (see spec_loader.h).
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace conformance {

struct Location {
  std::string file;  // path as given (relative to the spec dir's parent when possible)
  int line = 0;      // 1-based; 0 when unknown
  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

struct Case {
  std::string id;        // within the rule
  std::string full_id;   // RULE/CASE
  std::string description;
  std::string note;
  std::vector<std::string> own_features;  // the case's `features`
  std::set<std::string> features;         // rule's + case's
  nlohmann::json program;                 // the step list
  nlohmann::json expect;                  // {trace: [...], final: {...}} (final optional)
  Location where;
};

struct Rule {
  std::string id;
  std::string title;
  std::string statement;
  std::string level;  // must | should | implementation-defined
  std::string note;
  std::string area;   // the rule file's area
  nlohmann::json source;  // list of citations, as JSON
  std::vector<std::string> features;
  std::vector<Case> cases;
  Location where;
};

struct ErrorType {
  std::string kind;    // test | library
  std::string parent;  // empty when none
  bool message = false;
  std::vector<std::string> fields;  // extra fields a $failure of this type carries (e.g. FirstError's index, sub)
};

struct RuleFile {
  std::string path;
  std::string area;
  std::string title;
};

struct Spec {
  std::filesystem::path dir;
  std::string version;  // spec/spec.yaml version
  int format = 0;
  std::map<std::string, std::string> features;  // name -> description
  std::map<std::string, ErrorType> errors;
  std::map<std::string, std::set<std::string>> sources;  // doc id -> section names
  std::vector<RuleFile> files;
  std::vector<Rule> rules;  // in file order (files sorted), then document order

  const Rule* find_rule(const std::string& id) const;
  // Renders a rule's citations as text, e.g. "reference § Errbacks; api twisted...".
  static std::string source_text(const nlohmann::json& source);
};

}  // namespace conformance

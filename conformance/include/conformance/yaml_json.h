// YAML -> JSON conversion with the types a reader expects: plain scalars that
// read as integers, floats, booleans or null become those; quoted and block
// scalars stay strings. Ambiguous plain scalars (yes/no/on/off, 012, 0x1F,
// .inf, .nan) are refused, because YAML 1.1 readers (PyYAML) disagree on them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace conformance {

struct YamlIssue {
  int line = 0;  // 1-based
  std::string message;
};

struct YamlConvertOptions {
  int max_depth = 64;
  std::size_t max_nodes = 1'000'000;  // counts nodes reached through aliases too
};

// Converts `node`; problems are appended to `issues` (the result is then partial).
nlohmann::json yaml_to_json(const YAML::Node& node, std::vector<YamlIssue>& issues,
                            const YamlConvertOptions& options = {});

// 1-based line of a node (0 if unknown).
int yaml_line(const YAML::Node& node);

}  // namespace conformance

#include "conformance/yaml_json.h"

#include <charconv>
#include <cstdlib>
#include <set>

namespace conformance {

int yaml_line(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

namespace {

bool is_int(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (std::size_t j = i; j < s.size(); ++j)
    if (s[j] < '0' || s[j] > '9') return false;
  return true;
}

bool is_float(const std::string& s) {
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t i = 0, n = s.size();
  auto digits = [&] {
    std::size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < n && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

struct Converter {
  std::vector<YamlIssue>& issues;
  const YamlConvertOptions& options;
  std::size_t nodes = 0;
  bool budget_reported = false;

  void issue(const YAML::Node& n, std::string msg) { issues.push_back({yaml_line(n), std::move(msg)}); }

  nlohmann::json scalar(const YAML::Node& n) {
    const std::string& s = n.Scalar();
    const std::string& tag = n.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return s;
    if (tag != "?" && !tag.empty()) {
      issue(n, "unsupported YAML tag '" + tag + "'");
      return s;
    }
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    static const std::set<std::string> ambiguous = {"yes", "Yes", "YES", "no", "No", "NO",
                                                    "on",  "On",  "ON",  "off", "Off", "OFF"};
    if (ambiguous.count(s)) {
      issue(n, "ambiguous plain scalar '" + s + "': quote it for a string, or use true/false");
      return s;
    }
    if (is_int(s)) {
      const std::size_t digits = (s[0] == '-' || s[0] == '+') ? 1 : 0;
      if (s.size() > digits + 1 && s[digits] == '0') {
        issue(n, "ambiguous number '" + s + "' (leading zero): quote it or drop the zero");
        return s;
      }
      std::int64_t v = 0;
      const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
      auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size()) {
        issue(n, "integer out of range: " + s);
        return s;
      }
      return v;
    }
    if (is_float(s)) return std::strtod(s.c_str(), nullptr);
    if (s.size() > 1 && (s.rfind("0x", 0) == 0 || s.rfind("0o", 0) == 0 || s.rfind("0b", 0) == 0)) {
      issue(n, "non-decimal number '" + s + "': write it in decimal, or quote it");
      return s;
    }
    static const std::set<std::string> specials = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF",
                                                   "+.inf", ".nan", ".NaN", ".NAN"};
    if (specials.count(s)) {
      issue(n, "'" + s + "' has no JSON representation");
      return s;
    }
    return s;
  }

  nlohmann::json convert(const YAML::Node& n, int depth) {
    if (++nodes > options.max_nodes) {
      if (!budget_reported) issue(n, "document too large (more than " + std::to_string(options.max_nodes) +
                                         " nodes after alias expansion)");
      budget_reported = true;
      return nullptr;
    }
    if (depth > options.max_depth) {
      issue(n, "nesting deeper than " + std::to_string(options.max_depth) + " levels");
      return nullptr;
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        return scalar(n);
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : n) {
          out.push_back(convert(item, depth + 1));
          if (budget_reported) break;
        }
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (!it->first.IsScalar()) {
            issue(it->first, "mapping keys must be plain strings");
            continue;
          }
          const std::string& key = it->first.Scalar();
          if (out.contains(key)) {
            issue(it->first, "duplicate key '" + key + "'");
            continue;
          }
          out[key] = convert(it->second, depth + 1);
          if (budget_reported) break;
        }
        return out;
      }
    }
    return nullptr;
  }
};

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node, std::vector<YamlIssue>& issues,
                            const YamlConvertOptions& options) {
  Converter c{issues, options};
  return c.convert(node, 0);
}

}  // namespace conformance

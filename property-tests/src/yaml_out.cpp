#include "yaml_out.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace props {

using json = nlohmann::json;

namespace {

bool plain_ok(const std::string& s) {
  if (s.empty()) return false;
  static const char* const reserved[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"};
  std::string low = s;
  std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* r : reserved)
    if (low == r) return false;
  const unsigned char c0 = static_cast<unsigned char>(s[0]);
  if (!(std::isalpha(c0) || s[0] == '_' || s[0] == '$')) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '$')) return false;
  return true;
}

std::string scalar(const std::string& s) { return plain_ok(s) ? s : json(s).dump(); }

}  // namespace

std::string yaml_flow(const json& v) {
  if (v.is_string()) return scalar(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + yaml_flow(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    // the spec's habitual key order first
    static const char* const order[] = {"op",     "name",    "target",  "on",      "to",      "label",
                                        "value",  "$failure", "error",   "raise",   "message", "members", "call",
                                        "arg",    "args",    "mark",    "raised",  "step",    "state",
                                        "paused", "result",  "index",  "sub",     "inner",
                                        "callback", "errback", "canceller", "do"};
    std::vector<std::string> keys;
    for (const char* k : order)
      if (v.contains(k)) keys.push_back(k);
    for (auto it = v.begin(); it != v.end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    for (const auto& k : keys) {
      out += (first ? "" : ", ") + scalar(k) + ": " + yaml_flow(v[k]);
      first = false;
    }
    return out + "}";
  }
  return v.dump();
}

namespace {
void observations(std::ostringstream& o, const json& obs, const std::string& ind, const std::string& lead) {
  const json trace = obs.contains("trace") ? obs["trace"] : json::array();
  if (trace.empty()) {
    o << lead << ind << "trace: []\n";
  } else {
    o << lead << ind << "trace:\n";
    for (const auto& e : trace) o << lead << ind << "  - " << yaml_flow(e) << "\n";
  }
  if (obs.contains("final")) {
    if (obs["final"].empty()) {
      o << lead << ind << "final: {}\n";
    } else {
      o << lead << ind << "final:\n";
      for (auto it = obs["final"].begin(); it != obs["final"].end(); ++it)
        o << lead << ind << "  " << scalar(it.key()) << ": " << yaml_flow(it.value()) << "\n";
    }
  }
}
}  // namespace

std::string yaml_case(const std::string& id, const std::string& description, const json& program, const json& expect,
                      const json& observed, const std::string& observed_by, const std::string& note,
                      const std::string& indent) {
  std::ostringstream o;
  const std::string in = indent + "  ";
  o << indent << "- id: " << scalar(id) << "\n";
  o << in << "description: " << json(description).dump() << "\n";
  o << in << "program:\n";
  for (const auto& s : program) o << in << "  - " << yaml_flow(s) << "\n";
  if (expect.is_null()) {
    o << in << "expect: {}  # the model could not run this program\n";
  } else {
    o << in << "expect:\n";
    observations(o, expect, in + "  ", "");
  }
  if (!observed.is_null()) {
    o << in << "# observed (" << observed_by << "):\n";
    observations(o, observed, "  ", in + "#");
  }
  if (!note.empty()) {
    std::istringstream lines(note);
    std::string line;
    while (std::getline(lines, line)) o << in << "# " << line << "\n";
  }
  return o.str();
}

}  // namespace props

#include "conformance/expectations.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "conformance/yaml_json.h"

namespace conformance {

namespace {
std::string quote_if_needed(const std::string& s) {
  bool plain = !s.empty();
  for (unsigned char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_' || c == '/'))
      plain = false;
  if (plain && !(s[0] >= '0' && s[0] <= '9') && s[0] != '-' && s[0] != '.') return s;
  return nlohmann::json(s).dump();
}
}  // namespace

Expectations Expectations::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open the expectations file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), file.string());
}

Expectations Expectations::parse(const std::string& text, const std::string& name) {
  Expectations ex;
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(name + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
  }
  auto fail = [&](const YAML::Node& n, const std::string& what) {
    throw std::runtime_error(name + ":" + std::to_string(yaml_line(n)) + ": " + what);
  };
  YAML::Node list;
  if (doc.IsNull() || !doc.IsDefined()) return ex;
  if (doc.IsMap()) {
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (it->first.Scalar() != "expected-failures")
        fail(it->first, "unknown field '" + it->first.Scalar() + "' (expected-failures)");
    list = doc["expected-failures"];
    if (!list.IsDefined() || list.IsNull()) return ex;
  } else {
    list = doc;
  }
  if (!list.IsSequence()) fail(list, "expected-failures must be a list");
  for (const auto& item : list) {
    ExpectedFailure e;
    e.line = yaml_line(item);
    if (item.IsScalar()) {
      e.id = item.Scalar();
    } else if (item.IsMap()) {
      for (auto it = item.begin(); it != item.end(); ++it) {
        const auto k = it->first.Scalar();
        if (k != "id" && k != "reason") fail(it->first, "unknown field '" + k + "' (id, reason)");
        if (!it->second.IsScalar()) fail(it->second, k + " must be a string");
        (k == "id" ? e.id : e.reason) = it->second.Scalar();
      }
    } else {
      fail(item, "an entry must be an id or {id, reason}");
    }
    if (e.id.empty()) fail(item, "an entry needs an id");
    ex.entries_.push_back(std::move(e));
  }
  return ex;
}

const ExpectedFailure* Expectations::find(const std::string& rule_id, const std::string& full_case_id) const {
  if (index_.empty() && !entries_.empty())
    for (std::size_t i = entries_.size(); i-- > 0;) index_[entries_[i].id] = i;
  if (auto it = index_.find(full_case_id); it != index_.end()) return &entries_[it->second];
  if (auto it = index_.find(rule_id); it != index_.end()) return &entries_[it->second];
  return nullptr;
}

std::string Expectations::to_yaml(const std::string& header_comment) const {
  std::string out;
  if (!header_comment.empty()) {
    std::istringstream in(header_comment);
    std::string l;
    while (std::getline(in, l)) out += "# " + l + "\n";
  }
  out += "expected-failures:";
  if (entries_.empty()) return out + " []\n";
  out += "\n";
  for (const auto& e : entries_) {
    out += "  - id: " + quote_if_needed(e.id) + "\n";
    if (!e.reason.empty()) out += "    reason: " + nlohmann::json(e.reason).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return out;
}

}  // namespace conformance

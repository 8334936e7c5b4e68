#include "conformance/comparator.h"

#include <cmath>
#include <set>

namespace conformance {

using nlohmann::json;

bool values_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
    if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<std::uint64_t>() == b.get<std::uint64_t>();
    if (a.is_number_unsigned() && a.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return false;
    if (b.is_number_unsigned() && b.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) return false;
    return a.get<std::int64_t>() == b.get<std::int64_t>();
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!values_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !values_equal(it.value(), *jt)) return false;
    }
    return true;
  }
  return a == b;
}

namespace {

bool plain_ok(const std::string& s) {
  if (s.empty()) return false;
  static const std::set<std::string> reserved = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false",
                                                 "False", "FALSE", "yes", "no", "on", "off", "Yes", "No", "On", "Off"};
  if (reserved.count(s)) return false;
  const char first = s[0];
  if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.' || c == '$' || c == ' ' || c == '/' || c >= 0x80;
    if (!ok) return false;
  }
  return s.front() != ' ' && s.back() != ' ';
}

bool plain_key(const std::string& k) {
  if (k.empty()) return false;
  for (unsigned char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '$' || c == '.'))
      return false;
  return true;
}

void render(const json& v, std::string& out, std::size_t max) {
  if (out.size() > max) return;
  switch (v.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      // Tagged keys first for readability.
      auto emit = [&](const std::string& k, const json& val) {
        if (!first) out += ", ";
        first = false;
        out += plain_key(k) ? k : json(k).dump();
        out += ": ";
        render(val, out, max);
      };
      for (auto it = v.begin(); it != v.end(); ++it)
        if (!it.key().empty() && it.key()[0] == '$') emit(it.key(), it.value());
      for (const char* k : {"call", "mark", "raised", "unhandled", "state"})
        if (auto it = v.find(k); it != v.end()) emit(k, *it);
      for (auto it = v.begin(); it != v.end(); ++it) {
        const auto& k = it.key();
        if ((!k.empty() && k[0] == '$') || k == "call" || k == "mark" || k == "raised" || k == "unhandled" ||
            k == "state")
          continue;
        emit(k, it.value());
      }
      out += '}';
      break;
    }
    case json::value_t::array: {
      out += '[';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        render(v[i], out, max);
        if (out.size() > max) break;
      }
      out += ']';
      break;
    }
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      out += plain_ok(s) ? s : v.dump(-1, ' ', false, json::error_handler_t::replace);
      break;
    }
    default:
      out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

std::string entry_diff(const std::string& where, const json& expected, const json& observed) {
  return where + ": expected " + render_value(expected) + " observed " + render_value(observed);
}

}  // namespace

std::string render_value(const json& v, std::size_t max_chars) {
  std::string out;
  render(v, out, max_chars);
  if (out.size() > max_chars) {
    out.resize(max_chars);
    out += "...";
  }
  return out;
}

std::optional<std::string> compare_observations(const json& expected, const json& observed) {
  if (!observed.is_object()) return "observations: expected an object with trace and final, observed " +
                                    render_value(observed);
  static const json empty_list = json::array();
  const json& exp_trace = expected.is_object() && expected.contains("trace") ? expected["trace"] : empty_list;
  auto ot = observed.find("trace");
  if (ot == observed.end() || !ot->is_array()) {
    if (!(ot == observed.end() && exp_trace.empty()))
      return std::string("trace: ") + (ot == observed.end() ? "missing from the observations"
                                                             : "observed " + render_value(*ot) + ", not a list");
  } else {
    const json& obs_trace = *ot;
    const std::size_t n = std::min(exp_trace.size(), obs_trace.size());
    for (std::size_t i = 0; i < n; ++i)
      if (!values_equal(exp_trace[i], obs_trace[i]))
        return entry_diff("trace[" + std::to_string(i) + "]", exp_trace[i], obs_trace[i]);
    if (exp_trace.size() > obs_trace.size())
      return "trace[" + std::to_string(n) + "]: expected " + render_value(exp_trace[n]) +
             ", missing from the observation (observed " + std::to_string(obs_trace.size()) + " of " +
             std::to_string(exp_trace.size()) + " entries)";
    if (obs_trace.size() > exp_trace.size())
      return "trace[" + std::to_string(n) + "]: unexpected extra entry " + render_value(obs_trace[n]) + " (observed " +
             std::to_string(obs_trace.size()) + " entries, expected " + std::to_string(exp_trace.size()) + ")";
  }
  if (!expected.is_object() || !expected.contains("final")) return std::nullopt;
  const json& exp_final = expected["final"];
  auto of = observed.find("final");
  if (of == observed.end()) return "final: missing from the observations";
  if (!of->is_object()) return "final: observed " + render_value(*of) + ", not a mapping";
  for (auto it = exp_final.begin(); it != exp_final.end(); ++it) {
    auto jt = of->find(it.key());
    if (jt == of->end())
      return "final." + it.key() + ": expected " + render_value(it.value()) + ", missing from the observation";
    if (!values_equal(it.value(), *jt)) return entry_diff("final." + it.key(), it.value(), *jt);
  }
  for (auto jt = of->begin(); jt != of->end(); ++jt)
    if (!exp_final.contains(jt.key()))
      return "final." + jt.key() + ": unexpected " + render_value(jt.value()) + " (not in the expected final states)";
  return std::nullopt;
}

}  // namespace conformance

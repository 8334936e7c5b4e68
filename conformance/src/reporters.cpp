#include "conformance/reporters.h"

#include <map>
#include <ostream>
#include <sstream>

namespace conformance {

using nlohmann::json;

std::optional<ReportFormat> parse_report_format(const std::string& name) {
  if (name == "text") return ReportFormat::text;
  if (name == "json") return ReportFormat::json;
  if (name == "junit") return ReportFormat::junit;
  if (name == "markdown" || name == "md") return ReportFormat::markdown;
  return std::nullopt;
}

std::string sanitize_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    // Lead bytes: C2-DF, E0-EF, F0-F4 (C0, C1 and F5-FF never occur).
    int len = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) ok = false;
    if (ok && len == 3) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) ok = false;  // overlong / surrogates
    }
    if (ok && len == 4) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) ok = false;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string xml_escape(const std::string& raw) {
  const std::string s = sanitize_text(raw);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

bool is_bad(Status s) { return s == Status::failed || s == Status::errored || s == Status::unexpected_pass; }

std::string indent(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream in(sanitize_text(text));
  std::string line;
  while (std::getline(in, line)) out += pad + line + "\n";
  return out;
}

std::string impl_line(const RunReport& r) {
  const auto& i = r.implementation;
  std::string s = i.name;
  if (!i.version.empty()) s += " " + i.version;
  if (!i.language.empty()) s += " (" + i.language + ")";
  return s;
}

std::string summary_line(const RunReport& r) {
  const auto& s = r.summary;
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
  return std::to_string(s.cases) + " cases in " + std::to_string(s.rules) + " rules: " + std::to_string(s.passed) +
         " passed, " + std::to_string(s.failed) + " failed, " + std::to_string(s.skipped) + " skipped, " +
         std::to_string(s.errored) + " errored, " + std::to_string(s.expected_failures) + " expected failures, " +
         std::to_string(s.unexpected_passes) + " unexpected passes (" + secs + " s)";
}

std::string problem_text(const CaseResult& c) {
  std::string t;
  switch (c.status) {
    case Status::failed: t = c.diff; break;
    case Status::errored: t = c.message + (c.details.empty() ? "" : "\n" + c.details); break;
    case Status::unexpected_pass:
      t = "passed, but the expectations file lists it as a known failure" +
          (c.reason.empty() ? std::string() : " (" + c.reason + ")") + ": remove the entry";
      break;
    case Status::expected_failure:
      t = "expected failure" + (c.reason.empty() ? std::string() : " (" + c.reason + ")") + ": " +
          (c.diff.empty() ? c.message : c.diff);
      break;
    case Status::skipped: t = c.message; break;
    case Status::passed: break;
  }
  return t;
}

// Groups consecutive results by rule (results are in spec order).
template <typename F>
void for_each_rule(const RunReport& r, F&& f) {
  std::size_t i = 0;
  while (i < r.results.size()) {
    std::size_t j = i;
    while (j < r.results.size() && r.results[j].rule == r.results[i].rule) ++j;
    f(r.results[i].rule, i, j);
    i = j;
  }
}

}  // namespace

json report_to_json(const RunReport& r) {
  json j;
  j["format"] = 1;
  const auto& i = r.implementation;
  j["implementation"] = {{"name", i.name},
                         {"version", i.version},
                         {"language", i.language},
                         {"features", json(i.features)}};
  if (!i.homepage.empty()) j["implementation"]["homepage"] = i.homepage;
  j["spec_version"] = r.spec_version;
  const auto& s = r.summary;
  j["summary"] = {{"rules", s.rules},
                  {"cases", s.cases},
                  {"passed", s.passed},
                  {"failed", s.failed},
                  {"skipped", s.skipped},
                  {"errored", s.errored},
                  {"expected_failures", s.expected_failures},
                  {"unexpected_passes", s.unexpected_passes}};
  j["duration_seconds"] = r.seconds;
  j["exit_code"] = r.exit_code();
  json results = json::array();
  for (const auto& c : r.results) {
    json o = {{"rule", c.rule->id}, {"case", c.kase->id}, {"id", c.kase->full_id}, {"status", status_name(c.status)}};
    if (!c.diff.empty()) o["diff"] = c.diff;
    if (!c.message.empty()) o["message"] = c.message;
    if (!c.reason.empty()) o["reason"] = c.reason;
    if (!c.details.empty()) o["details"] = c.details;
    results.push_back(std::move(o));
  }
  j["results"] = std::move(results);
  j["unused_expectations"] = r.unused_expectations;
  return j;
}

void write_json(const RunReport& r, std::ostream& out) {
  out << report_to_json(r).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

void write_text(const RunReport& r, std::ostream& out) {
  out << "conform: " << sanitize_text(impl_line(r)) << " against spec " << r.spec_version << "\n";
  for_each_rule(r, [&](const Rule* rule, std::size_t b, std::size_t e) {
    int bad = 0, skipped = 0, xfail = 0;
    for (std::size_t k = b; k < e; ++k) {
      bad += is_bad(r.results[k].status);
      skipped += r.results[k].status == Status::skipped;
      xfail += r.results[k].status == Status::expected_failure;
    }
    const auto n = e - b;
    const char* tag = bad ? "FAIL " : skipped == static_cast<int>(n) ? "SKIP " : xfail ? "XFAIL" : "PASS ";
    out << tag << " " << rule->id << " (" << n << (n == 1 ? " case" : " cases");
    if (bad) out << ", " << bad << " not passing";
    if (skipped) out << ", " << skipped << " skipped";
    if (xfail) out << ", " << xfail << " expected failures";
    out << ")\n";
    for (std::size_t k = b; k < e; ++k) {
      const auto& c = r.results[k];
      if (!is_bad(c.status)) continue;
      out << "  " << status_name(c.status) << ": " << c.kase->full_id << "\n";
      out << "    rule: " << sanitize_text(rule->statement.empty() ? rule->title : rule->statement) << "\n";
      out << "    source: " << Spec::source_text(rule->source) << " (" << rule->where.str() << ")\n";
      out << indent(problem_text(c), "    | ");
    }
  });
  if (!r.unused_expectations.empty()) {
    out << "note: expectations entries matching no selected case:";
    for (const auto& u : r.unused_expectations) out << " " << u;
    out << "\n";
  }
  out << (r.exit_code() == 0 ? "OK: " : "FAILED: ") << summary_line(r) << "\n";
}

void write_junit(const RunReport& r, std::ostream& out) {
  // One testsuite per area (rule file), in spec order.
  std::vector<std::string> areas;
  std::map<std::string, std::vector<const CaseResult*>> by_area;
  for (const auto& c : r.results) {
    const std::string area = c.rule->area.empty() ? c.rule->where.file : c.rule->area;
    if (!by_area.count(area)) areas.push_back(area);
    by_area[area].push_back(&c);
  }
  const auto& s = r.summary;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"" << xml_escape("conform " + impl_line(r)) << "\" tests=\"" << s.cases
      << "\" failures=\"" << s.failed + s.unexpected_passes << "\" errors=\"" << s.errored << "\" skipped=\""
      << s.skipped + s.expected_failures << "\" time=\"" << r.seconds << "\">\n";
  for (const auto& area : areas) {
    const auto& cases = by_area[area];
    int failures = 0, errors = 0, skipped = 0;
    double time = 0;
    for (const auto* c : cases) {
      failures += c->status == Status::failed || c->status == Status::unexpected_pass;
      errors += c->status == Status::errored;
      skipped += c->status == Status::skipped || c->status == Status::expected_failure;
      time += c->seconds;
    }
    out << "  <testsuite name=\"" << xml_escape(area) << "\" tests=\"" << cases.size() << "\" failures=\"" << failures
        << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << time << "\">\n";
    for (const auto* c : cases) {
      out << "    <testcase classname=\"" << xml_escape(c->rule->id) << "\" name=\"" << xml_escape(c->kase->id)
          << "\" time=\"" << c->seconds << "\"";
      const std::string text = problem_text(*c);
      const std::string context = "rule: " + (c->rule->statement.empty() ? c->rule->title : c->rule->statement) +
                                  "\nsource: " + Spec::source_text(c->rule->source) + "\n";
      const std::string first_line = text.substr(0, text.find('\n'));
      switch (c->status) {
        case Status::passed: out << "/>\n"; continue;
        case Status::failed:
        case Status::unexpected_pass:
          out << ">\n      <failure message=\"" << xml_escape(first_line) << "\" type=\""
              << status_name(c->status) << "\">" << xml_escape(context + text) << "</failure>\n";
          break;
        case Status::errored:
          out << ">\n      <error message=\"" << xml_escape(first_line) << "\" type=\"error\">"
              << xml_escape(context + text) << "</error>\n";
          break;
        case Status::skipped:
        case Status::expected_failure:
          out << ">\n      <skipped message=\"" << xml_escape(first_line) << "\"/>\n";
          break;
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

void write_markdown(const RunReport& r, std::ostream& out) {
  auto md = [](const std::string& s) {
    std::string o;
    for (char c : sanitize_text(s)) {
      if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>' || c == '[' || c == ']') o += '\\';
      o += c == '\n' ? ' ' : c;
    }
    return o;
  };
  auto fence = [](const std::string& s) {
    std::string o = sanitize_text(s);
    for (std::size_t p; (p = o.find("```")) != std::string::npos;) o.replace(p, 3, "` ` `");
    return o;
  };
  const auto& s = r.summary;
  out << "# Conformance: " << md(impl_line(r)) << "\n\n";
  out << "Spec version " << md(r.spec_version) << ". Result: **" << (r.exit_code() == 0 ? "pass" : "fail")
      << "**.\n\n";
  out << "| rules | cases | passed | failed | skipped | errored | expected failures | unexpected passes |\n";
  out << "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  out << "| " << s.rules << " | " << s.cases << " | " << s.passed << " | " << s.failed << " | " << s.skipped << " | "
      << s.errored << " | " << s.expected_failures << " | " << s.unexpected_passes << " |\n\n";
  bool any = false;
  for (const auto& c : r.results) {
    if (!is_bad(c.status)) continue;
    if (!any) out << "## Failing cases\n\n";
    any = true;
    out << "### `" << fence(c.kase->full_id) << "` (" << status_name(c.status) << ")\n\n";
    out << "> " << md(c.rule->statement.empty() ? c.rule->title : c.rule->statement) << "\n\n";
    out << "Source: " << md(Spec::source_text(c.rule->source)) << "\n\n";
    out << "```\n" << fence(problem_text(c)) << "\n```\n\n";
  }
  if (!any) out << "All applicable cases passed.\n";
}

void write_report(const RunReport& r, ReportFormat format, std::ostream& out) {
  switch (format) {
    case ReportFormat::text: write_text(r, out); break;
    case ReportFormat::json: write_json(r, out); break;
    case ReportFormat::junit: write_junit(r, out); break;
    case ReportFormat::markdown: write_markdown(r, out); break;
  }
}

}  // namespace conformance

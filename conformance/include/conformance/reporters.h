// Report writers: text (for people), JSON (the contract in conformance/REPORT.md),
// JUnit XML (for CI), Markdown (for pull requests and docs).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "conformance/runner.h"

namespace conformance {

enum class ReportFormat { text, json, junit, markdown };

std::optional<ReportFormat> parse_report_format(const std::string& name);

nlohmann::json report_to_json(const RunReport& report);
void write_text(const RunReport& report, std::ostream& out);
void write_json(const RunReport& report, std::ostream& out);
void write_junit(const RunReport& report, std::ostream& out);
void write_markdown(const RunReport& report, std::ostream& out);
void write_report(const RunReport& report, ReportFormat format, std::ostream& out);

// Replaces invalid UTF-8 and control characters (other than \n and \t) so any
// driver output can be shown safely.
std::string sanitize_text(const std::string& s);
std::string xml_escape(const std::string& s);

}  // namespace conformance

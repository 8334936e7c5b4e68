// Fuzz target `driver_response`: one line as a driver would print it, taken
// through everything the runner does with a driver's response lines:
// conformance::parse_start_response and parse_run_response (driver_client.cpp),
// then, for a well-formed response, the comparison with a real spec case's
// expectation (comparator.cpp) and the four report formats (reporters.cpp),
// with the implementation's name and features from the handshake parse.
//
// Input: the bytes up to the first newline (the runner splits on '\n' and
// drops a trailing '\r'). The run response is parsed for seq 1, the seq the
// seeds carry.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "conformance/comparator.h"
#include "conformance/driver_client.h"
#include "conformance/reporters.h"
#include "conformance/runner.h"
#include "conformance/spec_loader.h"
#include "fuzz_support.h"

namespace {

using namespace conformance;

[[noreturn]] void fail(const char* what, const std::string& detail) { fuzz::fail("driver_response", what, detail); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Spec& s = fuzz::spec();
  std::string line(reinterpret_cast<const char*>(data), size);
  if (const auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  if (!line.empty() && line.back() == '\r') line.pop_back();

  const StartResponse start = parse_start_response(line);
  const RunResponse run = parse_run_response(line, 1);
  if (run.error.empty() == false && run.error.size() > 1000) fail("an over-long parse error", run.error);

  // Pick a case by the line's hash: the comparison sees every case's shape.
  std::size_t n = 0;
  for (const auto& r : s.rules) n += r.cases.size();
  std::size_t pick = std::hash<std::string>()(line) % n;
  const Rule* rule = nullptr;
  const Case* kase = nullptr;
  for (const auto& r : s.rules) {
    if (pick < r.cases.size()) {
      rule = &r;
      kase = &r.cases[pick];
      break;
    }
    pick -= r.cases.size();
  }

  CaseResult res;
  res.rule = rule;
  res.kase = kase;
  if (!run.error.empty()) {
    res.status = Status::errored;
    res.message = run.error;
    res.details = "driver output: " + line.substr(0, 300);
  } else {
    switch (run.outcome.kind) {
      case Outcome::Kind::observed:
        if (auto diff = compare_observations(kase->expect, run.outcome.observations)) {
          res.status = Status::failed;
          res.diff = *diff;
          if (res.diff.size() > 4000) fail("an over-long diff", res.diff);
        } else {
          res.status = Status::passed;
        }
        (void)render_value(run.outcome.observations);
        break;
      case Outcome::Kind::skipped:
        res.status = Status::skipped;
        res.message = run.outcome.message;
        break;
      case Outcome::Kind::errored:
        res.status = Status::errored;
        res.message = run.outcome.message;
        break;
    }
  }

  RunReport report;
  report.implementation = start.error.empty() ? start.info : ImplementationInfo{"fuzz", "0", "c++", "", {"core"}};
  report.spec_version = s.version;
  report.summary.rules = 1;
  report.summary.cases = 1;
  switch (res.status) {
    case Status::passed: ++report.summary.passed; break;
    case Status::failed: ++report.summary.failed; break;
    case Status::skipped: ++report.summary.skipped; break;
    default: ++report.summary.errored; break;
  }
  report.results.push_back(std::move(res));
  for (auto format : {ReportFormat::text, ReportFormat::json, ReportFormat::junit, ReportFormat::markdown}) {
    std::ostringstream out;
    write_report(report, format, out);
  }
  (void)failures_as_expectations(report);
  return 0;
}

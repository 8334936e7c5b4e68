#include "conformance/runner.h"

#include <fnmatch.h>

#include <chrono>

#include "conformance/comparator.h"
#include "conformance/reporters.h"

namespace conformance {

using Clock = std::chrono::steady_clock;

const char* status_name(Status s) {
  switch (s) {
    case Status::passed: return "pass";
    case Status::failed: return "fail";
    case Status::skipped: return "skip";
    case Status::errored: return "error";
    case Status::expected_failure: return "expected-fail";
    case Status::unexpected_pass: return "unexpected-pass";
  }
  return "?";
}

int RunReport::exit_code() const {
  return summary.failed + summary.errored + summary.unexpected_passes > 0 ? 1 : 0;
}

bool filter_matches(const std::vector<std::string>& filters, const std::string& rule_id, const std::string& full_id) {
  if (filters.empty()) return true;
  for (const auto& f : filters)
    if (::fnmatch(f.c_str(), rule_id.c_str(), 0) == 0 || ::fnmatch(f.c_str(), full_id.c_str(), 0) == 0) return true;
  return false;
}

std::vector<std::pair<const Rule*, const Case*>> select_cases(const Spec& spec, const RunOptions& options) {
  std::vector<std::pair<const Rule*, const Case*>> out;
  for (const auto& r : spec.rules)
    for (const auto& c : r.cases) {
      if (!filter_matches(options.filters, r.id, c.full_id)) continue;
      if (options.features) {
        bool ok = true;
        for (const auto& f : c.features)
          if (!options.features->count(f)) ok = false;
        if (!ok) continue;
      }
      out.emplace_back(&r, &c);
    }
  return out;
}

RunReport run_spec(const Spec& spec, Implementation& impl, const ImplementationInfo& info, const RunOptions& options) {
  RunReport report;
  report.implementation = info;
  report.spec_version = spec.version;
  const auto start = Clock::now();
  const auto selected = select_cases(spec, options);
  report.results.reserve(selected.size());
  std::set<const Rule*> rules;
  std::set<const ExpectedFailure*> used;
  for (const auto& [rule, kase] : selected) {
    rules.insert(rule);
    CaseResult res;
    res.rule = rule;
    res.kase = kase;
    const auto t0 = Clock::now();
    std::string lacking;
    for (const auto& f : kase->features)
      if (!info.features.count(f)) lacking += (lacking.empty() ? "" : ", ") + f;
    const ExpectedFailure* xf = options.expectations ? options.expectations->find(rule->id, kase->full_id) : nullptr;
    if (xf) used.insert(xf);
    if (!lacking.empty()) {
      res.status = Status::skipped;
      res.message = "the implementation lacks feature(s): " + lacking;
    } else {
      Outcome o;
      try {
        o = impl.run(kase->full_id, kase->program);
      } catch (const std::exception& e) {
        o = Outcome::errored(std::string("the implementation threw: ") + e.what());
      } catch (...) {
        o = Outcome::errored("the implementation threw an unknown exception");
      }
      switch (o.kind) {
        case Outcome::Kind::skipped:
          res.status = Status::skipped;
          res.message = o.message;
          break;
        case Outcome::Kind::errored:
          res.status = Status::errored;
          res.message = o.message;
          res.details = o.details;
          break;
        case Outcome::Kind::observed:
          if (auto diff = compare_observations(kase->expect, o.observations)) {
            res.status = Status::failed;
            res.diff = std::move(*diff);
          } else {
            res.status = Status::passed;
          }
          break;
      }
      if (xf) {
        res.reason = xf->reason;
        if (res.status == Status::failed || res.status == Status::errored) res.status = Status::expected_failure;
        else if (res.status == Status::passed) res.status = Status::unexpected_pass;
      }
    }
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    auto& s = report.summary;
    switch (res.status) {
      case Status::passed: ++s.passed; break;
      case Status::failed: ++s.failed; break;
      case Status::skipped: ++s.skipped; break;
      case Status::errored: ++s.errored; break;
      case Status::expected_failure: ++s.expected_failures; break;
      case Status::unexpected_pass: ++s.unexpected_passes; break;
    }
    ++s.cases;
    if (options.on_result) options.on_result(res);
    report.results.push_back(std::move(res));
  }
  report.summary.rules = static_cast<int>(rules.size());
  if (options.expectations)
    for (const auto& e : options.expectations->entries())
      if (!used.count(&e)) report.unused_expectations.push_back(e.id);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

Expectations failures_as_expectations(const RunReport& report) {
  Expectations ex;
  for (const auto& r : report.results) {
    if (r.status == Status::failed || r.status == Status::errored || r.status == Status::expected_failure) {
      std::string reason = r.status == Status::expected_failure && !r.reason.empty() ? r.reason
                           : r.status == Status::errored                        ? "error: " + r.message
                                                                                : r.diff;
      if (reason.empty()) reason = r.diff.empty() ? r.message : r.diff;
      if (reason.size() > 300) reason = reason.substr(0, 300) + "...";
      ex.add({r.kase->full_id, sanitize_text(reason), 0});
    }
  }
  return ex;
}

}  // namespace conformance

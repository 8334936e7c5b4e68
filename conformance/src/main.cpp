// conform: runs the Deferred spec against an implementation and reports.
// Exit status: 0 every applicable case passed; 1 a case failed or errored (or
// passed unexpectedly); 2 usage, spec or implementation set-up error.
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "conformance/driver_client.h"
#include "conformance/expectations.h"
#include "conformance/registry.h"
#include "conformance/reporters.h"
#include "conformance/runner.h"
#include "conformance/spec_loader.h"
#if CONFORMANCE_HAVE_REFERENCE
#include "conformance/reference_adapter.h"
#endif

namespace fs = std::filesystem;
using namespace conformance;

namespace {

fs::path self_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = 0;
  return fs::path(buf).parent_path();
}

fs::path default_spec_dir() {
  std::error_code ec;
  for (fs::path p = self_dir(); !p.empty(); p = p.parent_path()) {
    if (fs::is_regular_file(p / "spec" / "spec.yaml", ec)) return p / "spec";
    if (p == p.parent_path()) break;
  }
#ifdef CONFORMANCE_DEFAULT_SPEC_DIR
  return CONFORMANCE_DEFAULT_SPEC_DIR;
#else
  return "spec";
#endif
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',' || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

void register_builtins() {
#if CONFORMANCE_HAVE_REFERENCE
  register_in_process("reference", [] { return make_reference_implementation(); },
                      "the bundled C++ reference library, in process");
#endif
}

constexpr int kUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"conform: runs the Deferred conformance spec against an implementation"};
  std::string impl_name = "reference", driver_cmd, features_arg, format_name = "text", output, xfail_file,
              write_xfail, drivers_dir;
  std::string spec_dir;
  std::vector<std::string> filters;
  bool list = false, list_impls = false;
  double timeout = 10;
  app.add_option("--impl", impl_name, "implementation to test (see --list-impls)")->capture_default_str();
  app.add_option("--driver", driver_cmd, "run a driver command instead: 'COMMAND ARGS' (split shell-like)");
  app.add_option("--spec", spec_dir, "spec directory (default: the repository's spec/)");
  app.add_option("--drivers", drivers_dir, "folder of driver folders with impl.json (default: conformance/drivers)");
  app.add_option("--filter", filters, "glob over rule ids and RULE/CASE ids (repeatable; any match selects)");
  app.add_option("--features", features_arg, "only cases needing nothing but these features (comma-separated)");
  app.add_flag("--list", list, "list the selected case ids with their features, then exit");
  app.add_flag("--list-impls", list_impls, "list the implementations, then exit");
  app.add_option("--format", format_name, "report format: text, json, junit, markdown")->capture_default_str();
  app.add_option("--output,-o", output, "write the report to FILE (default: standard output)");
  app.add_option("--expected-failures", xfail_file, "expectations file of known failures");
  app.add_option("--write-expectations", write_xfail, "write the current failures and errors as an expectations file");
  app.add_option("--timeout", timeout, "per-case timeout for drivers, in seconds")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kUsage;
  }
  if (!(timeout > 0) || timeout > 86400) {
    std::cerr << "conform: --timeout must be a positive number of seconds\n";
    return kUsage;
  }
  const auto format = parse_report_format(format_name);
  if (!format) {
    std::cerr << "conform: unknown --format '" << format_name << "' (text, json, junit, markdown)\n";
    return kUsage;
  }
  register_builtins();

  const fs::path spec_path = spec_dir.empty() ? default_spec_dir() : fs::path(spec_dir);
  const fs::path drivers_path =
      drivers_dir.empty() ? fs::absolute(spec_path).parent_path() / "conformance" / "drivers" : fs::path(drivers_dir);
  const fs::path reference_driver = self_dir() / "reference-driver";
  std::error_code ec;

  std::vector<std::string> problems;
  const auto file_drivers = load_driver_entries(drivers_path, problems);

  if (list_impls) {
    const auto& reg = in_process_registry();
    if (!reg.count("reference")) std::cout << "reference\tunavailable (the reference adapter is not built)\n";
    for (const auto& [name, e] : reg) std::cout << name << "\tin process: " << e.description << "\n";
    std::cout << "reference-driver\t"
              << (fs::exists(reference_driver, ec) ? "driver: " + reference_driver.string()
                                                   : std::string("unavailable (not built)"))
              << "\n";
    for (const auto& d : file_drivers) {
      std::cout << d.name << "\tdriver:";
      for (const auto& a : d.command) std::cout << " " << a;
      if (!d.description.empty()) std::cout << "  (" << d.description << ")";
      std::cout << "\n";
    }
    for (const auto& p : problems) std::cerr << "conform: " << p << "\n";
    return 0;
  }

  LoadResult loaded = load_spec(spec_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << e.str() << "\n";
    std::cerr << "conform: " << loaded.errors.size() << " spec error(s) in " << spec_path.string() << "\n";
    return kUsage;
  }
  const Spec& spec = loaded.spec;

  RunOptions options;
  options.filters = filters;
  if (!features_arg.empty()) {
    std::set<std::string> feats;
    for (const auto& f : split_list(features_arg)) {
      if (!spec.features.count(f)) {
        std::cerr << "conform: unknown feature '" << f << "' in --features\n";
        return kUsage;
      }
      feats.insert(f);
    }
    options.features = std::move(feats);
  }

  if (list) {
    for (const auto& [rule, kase] : select_cases(spec, options)) {
      std::cout << kase->full_id << "\t";
      bool first = true;
      for (const auto& f : kase->features) std::cout << (first ? "" : ",") << f, first = false;
      std::cout << "\n";
    }
    return 0;
  }

  Expectations expectations;
  if (!xfail_file.empty()) {
    try {
      expectations = Expectations::load(xfail_file);
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return kUsage;
    }
    options.expectations = &expectations;
  }

  // Resolve the implementation.
  std::unique_ptr<Implementation> impl;
  auto make_driver = [&](std::vector<std::string> cmd, std::string cwd) {
    DriverOptions o;
    o.command = std::move(cmd);
    o.cwd = std::move(cwd);
    o.timeout_seconds = timeout;
    return std::make_unique<DriverClient>(std::move(o));
  };
  if (!driver_cmd.empty()) {
    std::vector<std::string> cmd;
    try {
      cmd = split_command(driver_cmd);
    } catch (const std::exception& e) {
      std::cerr << "conform: --driver: " << e.what() << "\n";
      return kUsage;
    }
    if (cmd.empty()) {
      std::cerr << "conform: --driver: empty command\n";
      return kUsage;
    }
    impl = make_driver(cmd, "");
  } else if (const auto& reg = in_process_registry(); reg.count(impl_name)) {
    try {
      impl = reg.at(impl_name).factory();
    } catch (const std::exception& e) {
      std::cerr << "conform: cannot create implementation '" << impl_name << "': " << e.what() << "\n";
      return kUsage;
    }
  } else if (impl_name == "reference") {
    std::cerr << "conform: the reference implementation is unavailable: its adapter "
                 "(conformance/reference_adapter/) is not built into this conform\n";
    return kUsage;
  } else if (impl_name == "reference-driver") {
    if (!fs::exists(reference_driver, ec)) {
      std::cerr << "conform: reference-driver is unavailable (not built next to conform)\n";
      return kUsage;
    }
    impl = make_driver({reference_driver.string()}, "");
  } else {
    for (const auto& d : file_drivers)
      if (d.name == impl_name) impl = make_driver(d.command, d.dir.string());
    if (!impl) {
      for (const auto& p : problems) std::cerr << "conform: " << p << "\n";
      std::cerr << "conform: unknown implementation '" << impl_name << "' (see --list-impls)\n";
      return kUsage;
    }
  }
  if (!impl) {
    std::cerr << "conform: implementation '" << impl_name << "' could not be created\n";
    return kUsage;
  }

  ImplementationInfo info;
  try {
    info = impl->info();
  } catch (const std::exception& e) {
    std::cerr << "conform: implementation set-up failed: " << e.what() << "\n";
    return kUsage;
  }
  for (const auto& f : info.features)
    if (!spec.features.count(f))
      std::cerr << "conform: warning: the implementation declares unknown feature '" << f << "'\n";

  const RunReport report = run_spec(spec, *impl, info, options);
  if (auto* d = dynamic_cast<DriverClient*>(impl.get())) d->stop();

  if (!write_xfail.empty()) {
    std::ofstream xf(write_xfail);
    xf << failures_as_expectations(report).to_yaml("conform expectations for " + info.name + " " + info.version +
                                                   " against spec " + spec.version);
    xf.close();  // a write error may only show when the buffer is flushed
    if (!xf) {
      std::cerr << "conform: cannot write " << write_xfail << "\n";
      return kUsage;
    }
  }
  if (output.empty()) {
    write_report(report, *format, std::cout);
    std::cout.flush();
  } else {
    std::ofstream out(output);
    write_report(report, *format, out);
    out.close();
    if (!out) {
      std::cerr << "conform: cannot write " << output << "\n";
      return kUsage;
    }
    const auto& s = report.summary;
    std::cerr << "conform: " << s.cases << " cases: " << s.passed << " passed, " << s.failed << " failed, "
              << s.skipped << " skipped, " << s.errored << " errored, " << s.expected_failures
              << " expected failures, " << s.unexpected_passes << " unexpected passes\n";
  }
  return report.exit_code();
}

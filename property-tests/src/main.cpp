// property-tests: runs every property against one implementation.
//
//   property-tests [--impl NAME | --driver CMD] [--scenarios N] [--seed S] [--only TEXT]...
//
// Prints one line per property and the summary line
// `P properties, S scenarios, F failed`; exit status 0 when every property
// holds, 1 when one fails, 2 when the implementation cannot be set up.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include <CLI/CLI.hpp>

#include "conformance/driver_client.h"
#include "conformance/implementation.h"
#include "conformance/registry.h"
#include "model/model.h"
#include "properties.h"

#ifdef PROPS_HAVE_REFERENCE
#include "conformance/reference_adapter.h"
#endif

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The model as an implementation: checks the harness itself (and measures the
// generator's speed); every model property holds trivially.
class ModelImplementation : public conformance::Implementation {
 public:
  conformance::ImplementationInfo info() override {
    return {"model", "1", "c++", "", {"core", "synchronous", "final-state", "extra-args", "pause", "cancel",
                                       "chain-deferred", "deferred-list", "gather", "maybe-deferred"}};
  }
  conformance::Outcome run(const std::string&, const json& program) override {
    try {
      return conformance::Outcome::observed(model::run(program));
    } catch (const std::exception& e) {
      return conformance::Outcome::errored(e.what());
    }
  }
};

bool needs_met(const props::Property& p, const props::Features& f, std::string& missing) {
  for (const auto& n : p.needs) {
    bool any = false;
    std::size_t start = 0;
    while (start <= n.size()) {
      auto bar = n.find('|', start);
      if (bar == std::string::npos) bar = n.size();
      if (f.has(n.substr(start, bar - start))) any = true;
      start = bar + 1;
    }
    if (!any) {
      missing = n;
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Property-based tests of Deferred semantics against one implementation"};
  std::string impl_name, driver_cmd, drivers_dir = PROPS_DEFAULT_DRIVERS_DIR;
  int scenarios = 200;
  std::uint64_t seed = 0;
  bool seed_given = false, list = false, no_shrink = false;
  double timeout = 10;
  std::vector<std::string> only;
  app.add_option("--impl", impl_name, "implementation: reference, model, or a driver name from conformance/drivers");
  app.add_option("--driver", driver_cmd, "command line of an out-of-process driver (conformance/PROTOCOL.md)");
  app.add_option("--drivers", drivers_dir, "folder of driver folders with impl.json")->capture_default_str();
  app.add_option("--scenarios", scenarios, "scenarios per property")->capture_default_str();
  app.add_option_function<std::uint64_t>("--seed", [&](std::uint64_t s) { seed = s, seed_given = true; },
                                         "random seed (default: a fresh one, printed)");
  app.add_option("--only", only, "run only properties whose name contains TEXT (repeatable)");
  app.add_option("--timeout", timeout, "per-program timeout for drivers, in seconds")->capture_default_str();
  app.add_flag("--no-shrink", no_shrink, "report the first counterexample unshrunk");
  app.add_flag("--list", list, "list the properties and exit");
  int show = 0;
  app.add_option("--show", show, "print the first N generated programs of each model property (stderr)");
  CLI11_PARSE(app, argc, argv);

  auto properties = props::all_properties();
  if (list) {
    for (const auto& p : properties) std::cout << p.name << "  [" << p.rules << "]\n";
    return 0;
  }
  if (!seed_given) seed = std::random_device{}() ^ static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());

  std::unique_ptr<conformance::Implementation> impl;
  try {
    if (!driver_cmd.empty()) {
      conformance::DriverOptions o;
      o.command = conformance::split_command(driver_cmd);
      o.timeout_seconds = timeout;
      impl = std::make_unique<conformance::DriverClient>(o);
      if (impl_name.empty()) impl_name = "driver";
    } else {
      if (impl_name.empty()) {
#ifdef PROPS_HAVE_REFERENCE
        impl_name = "reference";
#else
        impl_name = "twisted";
#endif
      }
      if (impl_name == "model") {
        impl = std::make_unique<ModelImplementation>();
      } else if (impl_name == "reference") {
#ifdef PROPS_HAVE_REFERENCE
        impl = conformance::make_reference_implementation();
#else
        std::cerr << "property-tests: the reference implementation's adapter is not built\n";
        return 2;
#endif
      } else if (auto it = conformance::in_process_registry().find(impl_name);
                 it != conformance::in_process_registry().end()) {
        impl = it->second.factory();
      } else {
        std::vector<std::string> problems;
        for (const auto& d : conformance::load_driver_entries(drivers_dir, problems)) {
          if (d.name != impl_name) continue;
          conformance::DriverOptions o;
          o.command = d.command;
          o.cwd = d.dir.string();
          o.timeout_seconds = timeout;
          impl = std::make_unique<conformance::DriverClient>(o);
        }
        if (!impl) {
          std::cerr << "property-tests: unknown implementation '" << impl_name << "' (drivers in " << drivers_dir
                    << ")\n";
          for (const auto& p : problems) std::cerr << "  " << p << "\n";
          return 2;
        }
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "property-tests: " << e.what() << "\n";
    return 2;
  }

  conformance::ImplementationInfo info;
  try {
    info = impl->info();
  } catch (const std::exception& e) {
    std::cerr << "property-tests: cannot start " << impl_name << ": " << e.what() << "\n";
    return 2;
  }
  props::Features features{info.features};
  std::cout << "property-tests: " << info.name << " " << info.version << " (" << info.language << "), seed " << seed
            << ", " << scenarios << " scenarios per property\n";
  if (!features.usable()) {
    std::cout << "property-tests: the implementation lacks core or synchronous; no property applies\n";
  }

  props::RunSettings st;
  st.scenarios = scenarios;
  st.seed = seed;
  st.shrink = !no_shrink;
  st.impl_name = impl_name;
  st.show = show;

  int run = 0, failed = 0, skipped = 0;
  long total = 0, runs = 0;
  double seconds = 0;
  for (const auto& p : properties) {
    if (!only.empty()) {
      bool match = false;
      for (const auto& o : only)
        if (p.name.find(o) != std::string::npos) match = true;
      if (!match) continue;
    }
    props::PropertyResult r;
    r.name = p.name;
    r.rules = p.rules;
    std::string missing;
    if (!features.usable() || !needs_met(p, features, missing)) {
      ++skipped;
      std::printf("skip  %-52s (needs %s)\n", p.name.c_str(), missing.empty() ? "core, synchronous" : missing.c_str());
      continue;
    }
    p.run(*impl, features, st, r);
    ++run;
    total += r.scenarios;
    runs += r.impl_runs;
    seconds += r.seconds;
    if (!r.passed) ++failed;
    std::printf("%-4s  %-52s %7d scenarios %7.2f s  [%s]\n", r.passed ? "pass" : "FAIL", p.name.c_str(), r.scenarios,
                r.seconds, p.rules.c_str());
    if (!r.passed) std::cout << r.report;
    std::fflush(stdout);
  }
  if (auto* d = dynamic_cast<conformance::DriverClient*>(impl.get())) d->stop();
  if (skipped) std::cout << skipped << " properties skipped (features the implementation lacks)\n";
  if (seconds > 0)
    std::printf("throughput: %.0f scenarios/s, %.0f programs/s against %s (seed %llu)\n", total / seconds,
                runs / seconds, impl_name.c_str(), static_cast<unsigned long long>(seed));
  std::cout << run << " properties, " << total << " scenarios, " << failed << " failed" << std::endl;
  return failed ? 1 : 0;
}

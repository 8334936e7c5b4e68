// main() of every C++ benchmark binary.
//
//   bench_X --list                      the workloads as JSON: runnable, or n/a and why
//   bench_X [--workloads=a,b] [--n=10,1000] [Google Benchmark flags...]
//
// Registers "WORKLOAD/N" for each requested workload this implementation runs
// (n above its limit is left out; --list says why). Exits non-zero if a
// workload produced a wrong result.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

bool gWrong = false;

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

void bench::reportWrongResult(benchmark::State& state, const std::string& what) {
  gWrong = true;
  state.SkipWithError(what.c_str());
}

int main(int argc, char** argv) {
  // Steady state: glibc keeps freed memory instead of returning it to the
  // kernel after each run (trim / per-chunk mmap), so that long chains do not
  // measure the kernel's page faults on fresh memory at every iteration (in a
  // VM those cost more than the chain itself). The same for every binary.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);

  bench::Registry registry;
  bench::describe(registry);

  bool list = false;
  std::vector<std::string> workloads;
  std::vector<std::int64_t> ns = {10, 1000, 100000, 1000000};
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--list") {
      list = true;
    } else if (arg.rfind("--workloads=", 0) == 0) {
      workloads = splitList(arg.substr(12));
    } else if (arg.rfind("--n=", 0) == 0) {
      ns.clear();
      for (const std::string& v : splitList(arg.substr(4))) ns.push_back(std::stoll(v));
    } else {
      rest.push_back(argv[i]);
    }
  }

  if (list) {
    std::cout << "{\"implementation\": " << jsonString(registry.implementation)
              << ", \"version\": " << jsonString(registry.version) << ", \"workloads\": {";
    bool first = true;
    for (const auto& e : registry.entries()) {
      std::cout << (first ? "" : ", ") << jsonString(e.workload) << ": ";
      first = false;
      if (e.fn) {
        std::cout << "{\"runs\": true, \"max_n\": " << e.maxN << ", \"reason\": "
                  << jsonString(e.reason) << "}";
      } else {
        std::cout << "{\"runs\": false, \"reason\": " << jsonString(e.reason) << "}";
      }
    }
    std::cout << "}}\n";
    return 0;
  }

  const std::set<std::string> wanted(workloads.begin(), workloads.end());
  for (const auto& e : registry.entries()) {
    if (!e.fn || (!wanted.empty() && wanted.count(e.workload) == 0)) continue;
    for (std::int64_t n : ns) {
      if (e.maxN != 0 && n > e.maxN) continue;
      const std::string name = e.workload + "/" + std::to_string(n);
      const bench::Workload fn = e.fn;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [fn, n](benchmark::State& state) { fn(state, n); })
          ->UseManualTime()
          ->Unit(benchmark::kNanosecond);
    }
  }

  int bargc = static_cast<int>(rest.size());
  benchmark::Initialize(&bargc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(bargc, rest.data())) return 2;
  benchmark::AddCustomContext("implementation", registry.implementation);
  benchmark::AddCustomContext("implementation_version", registry.version);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (gWrong) {
    std::fprintf(stderr, "error: a workload produced a wrong result (see above)\n");
    return 1;
  }
  return 0;
}

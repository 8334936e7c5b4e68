// The measuring harness shared by every C++ benchmark binary (bench/README.md).
//
// Each binary describes one implementation: for every workload of
// bench/workloads.json either a function that measures it for a given n, or
// the reason it is n/a. main.cpp turns that into Google Benchmark benchmarks
// named "WORKLOAD/N".
//
// measure() times only the workload itself: a context is prepared outside the
// timed region (what the drivers also make before timing: inner Deferreds,
// list members), run() is timed (manual time, steady clock), and the context
// is destroyed outside it. One untimed batch warms up first. Small n are batched so that one timed region holds
// at least kMinStepsPerTiming steps (clock reads stay negligible). Heap
// allocations and bytes inside the timed region are counted by the
// replacement global operator new of alloc_counter.cpp.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace bench {

// Allocations made by this thread so far (operator new of alloc_counter.cpp).
struct AllocCount {
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
};
AllocCount allocSnapshot() noexcept;

// Set when a workload's result was wrong: main() then exits non-zero.
void reportWrongResult(benchmark::State& state, const std::string& what);

inline constexpr std::int64_t kMinStepsPerTiming = 4096;

// prep() -> Ctx (made outside the timed region);
// run(Ctx&) -> bool (timed; returns whether the result was the expected one).
template <class Prep, class Run>
void measure(benchmark::State& state, std::int64_t n, Prep&& prep, Run&& run) {
  using Ctx = std::invoke_result_t<Prep&>;
  const std::int64_t batch = std::max<std::int64_t>(1, kMinStepsPerTiming / n);
  std::vector<std::unique_ptr<Ctx>> contexts;
  contexts.reserve(static_cast<std::size_t>(batch));
  double totalNs = 0;
  std::uint64_t allocs = 0, bytes = 0, steps = 0;
  bool ok = true;
  {
    // One untimed warm-up batch: the allocator's pools and the caches are
    // warm, and the memory the run needs is mapped (see main.cpp).
    for (std::int64_t b = 0; b < batch; ++b) contexts.emplace_back(new Ctx(prep()));
    for (auto& c : contexts) ok &= static_cast<bool>(run(*c));
    contexts.clear();
  }
  for (auto _ : state) {
    for (std::int64_t b = 0; b < batch; ++b) contexts.emplace_back(new Ctx(prep()));
    const AllocCount a0 = allocSnapshot();
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& c : contexts) ok &= static_cast<bool>(run(*c));
    const auto t1 = std::chrono::steady_clock::now();
    const AllocCount a1 = allocSnapshot();
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    state.SetIterationTime(ns * 1e-9);
    totalNs += ns;
    allocs += a1.count - a0.count;
    bytes += a1.bytes - a0.bytes;
    steps += static_cast<std::uint64_t>(batch * n);
    contexts.clear();
  }
  if (!ok) reportWrongResult(state, "the workload's final result was not the expected one");
  if (steps == 0) return;
  const double s = static_cast<double>(steps);
  state.counters["n"] = static_cast<double>(n);
  state.counters["ns_per_step"] = totalNs / s;
  state.counters["allocs_per_step"] = static_cast<double>(allocs) / s;
  state.counters["bytes_per_step"] = static_cast<double>(bytes) / s;
}

// An empty context for workloads that prepare nothing.
struct None {};
inline None none() { return {}; }

using Workload = std::function<void(benchmark::State&, std::int64_t n)>;

// What one binary offers: workloads it runs, and those that are n/a with why.
class Registry {
public:
  void add(std::string workload, Workload fn, std::int64_t maxN = 0) {
    entries_.push_back({std::move(workload), std::move(fn), {}, maxN});
  }
  void na(std::string workload, std::string reason) {
    entries_.push_back({std::move(workload), {}, std::move(reason), 0});
  }
  struct Entry {
    std::string workload;
    Workload fn;         // empty: n/a
    std::string reason;  // why n/a
    std::int64_t maxN;   // 0: no limit; above it the workload is n/a
  };
  const std::vector<Entry>& entries() const { return entries_; }
  std::string implementation;
  std::string version;

private:
  std::vector<Entry> entries_;
};

// Defined by each benchmark binary.
void describe(Registry& registry);

}  // namespace bench

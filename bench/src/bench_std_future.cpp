// std::promise / std::future. No continuations, no cancellation, no
// coroutine support: only the aggregate workloads apply (n promises set,
// then every result collected with get()).
#include <future>
#include <vector>

#include "harness.h"

namespace {

struct Members {
  std::vector<std::promise<int>> promises;
  std::vector<std::future<int>> futures;
};

Members makeMembers(std::int64_t n) {
  Members m;
  m.promises.resize(static_cast<std::size_t>(n));
  m.futures.reserve(static_cast<std::size_t>(n));
  for (auto& p : m.promises) m.futures.push_back(p.get_future());
  return m;
}

template <bool kReverse>
bool collect(Members& m) {
  if constexpr (kReverse) {
    for (std::size_t i = m.promises.size(); i-- > 0;) m.promises[i].set_value(1);
  } else {
    for (auto& p : m.promises) p.set_value(1);
  }
  std::vector<int> results;
  results.reserve(m.futures.size());
  for (auto& f : m.futures) results.push_back(f.get());
  return results.size() == m.futures.size() && results.back() == 1;
}

void list(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeMembers(n); },
                 [](Members& m) { return collect<false>(m); });
}
void listReverse(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeMembers(n); },
                 [](Members& m) { return collect<true>(m); });
}

void make(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    bool ok = true;
    for (std::int64_t i = 0; i < n; ++i) {
      std::promise<int> p;
      std::future<int> f = p.get_future();
      p.set_value(0);
      ok &= f.valid();
    }
    return ok;
  });
}

}  // namespace

void bench::describe(Registry& r) {
  r.implementation = "std-future";
  r.version = "libstdc++ (g++ " __VERSION__ ")";
  const char* noThen = "std::future has no continuation (.then)";
  for (const char* w : {"chain", "chain-typed", "fired-chain", "errback-return", "errback-throw", "recover",
                        "skip", "nested-ready", "nested-later"}) {
    r.na(w, noThen);
  }
  r.add("list", list);
  r.add("list-reverse", listReverse);
  r.add("gather", list);
  r.na("cancel", "std::future has no cancellation");
  r.na("await", "std::future is not awaitable");
  r.na("await-later", "std::future is not awaitable");
  r.add("new", make);
}

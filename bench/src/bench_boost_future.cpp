// Boost.Thread's boost::future: .then(launch::sync) continuations, when_all.
//
// A continuation receives the whole future (value or exception), so it is an
// addBoth: there is no success-only continuation for a failure to skip.
// A .then chain on a future that is not ready yet completes recursively when
// the promise is set: the stack overflows between n = 30,000 and 100,000, so
// n is capped (workloads.json; kMaxN here as a second guard).
#define BOOST_THREAD_VERSION 5
#define BOOST_THREAD_PROVIDES_FUTURE_CONTINUATION
#define BOOST_THREAD_PROVIDES_FUTURE_UNWRAP
#define BOOST_THREAD_PROVIDES_FUTURE_WHEN_ALL_WHEN_ANY
#include <boost/thread/future.hpp>
#include <boost/version.hpp>

#include <stdexcept>
#include <vector>

#include "harness.h"

namespace {

constexpr std::int64_t kMaxN = 10000;

using boost::future;
using boost::launch;
using boost::promise;

// A fresh callable per .then (Boost takes the continuation by rvalue).
struct Pass {
  int operator()(future<int> f) const { return f.get(); }  // rethrows a failure
};

void chain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) f = f.then(launch::sync, Pass{});
    p.set_value(0);
    return f.get() == 0;
  });
}

void firedChain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    future<int> f = boost::make_ready_future(0);
    for (std::int64_t i = 0; i < n; ++i) f = f.then(launch::sync, Pass{});
    return f.get() == 0;
  });
}

bool failed(future<int>& f) {
  try {
    f.get();
    return false;
  } catch (const std::runtime_error&) {
    return true;
  }
}

void errbackReturn(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      // returns the failed future itself; unwrap() makes it the next link
      f = f.then(launch::sync, [](future<int> x) { return x; }).unwrap();
    }
    p.set_exception(std::runtime_error("x"));
    return failed(f);
  });
}

void errbackThrow(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) f = f.then(launch::sync, Pass{});
    p.set_exception(std::runtime_error("x"));
    return failed(f);
  });
}

void recover(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      f = f.then(launch::sync, [](future<int> x) -> int {
        if (x.has_value()) throw std::runtime_error("x");
        return 0;
      });
    }
    p.set_exception(std::runtime_error("x"));
    return n % 2 == 1 ? f.get() == 0 : failed(f);
  });
}

void nestedReady(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      f = f.then(launch::sync, [](future<int> x) { return boost::make_ready_future(x.get()); })
              .unwrap();
    }
    p.set_value(0);
    return f.get() == 0;
  });
}

struct Inner {
  std::vector<promise<int>> promises;
  std::vector<future<int>> futures;
};
Inner makeInner(std::int64_t n) {
  Inner c;
  c.promises.resize(static_cast<std::size_t>(n));
  for (auto& p : c.promises) c.futures.push_back(p.get_future());
  return c;
}

void nestedLater(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); }, [n](Inner& c) {
    promise<int> p;
    future<int> f = p.get_future();
    for (std::int64_t i = 0; i < n; ++i) {
      future<int>* inner = &c.futures[static_cast<std::size_t>(i)];
      f = f.then(launch::sync, [inner](future<int> x) {
             x.get();
             return std::move(*inner);
           }).unwrap();
    }
    p.set_value(0);
    for (auto& q : c.promises) q.set_value(0);
    return f.get() == 0;
  });
}

template <bool kReverse>
bool whenAll(Inner& c) {
  auto all = boost::when_all(c.futures.begin(), c.futures.end());
  if constexpr (kReverse) {
    for (std::size_t i = c.promises.size(); i-- > 0;) c.promises[i].set_value(1);
  } else {
    for (auto& q : c.promises) q.set_value(1);
  }
  std::vector<future<int>> done = all.get();
  return done.size() == c.promises.size() && done.back().get() == 1;
}

void list(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); },
                 [](Inner& c) { return whenAll<false>(c); });
}
void listReverse(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); },
                 [](Inner& c) { return whenAll<true>(c); });
}

void make(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    bool ok = true;
    for (std::int64_t i = 0; i < n; ++i) {
      promise<int> p;
      future<int> f = p.get_future();
      p.set_value(0);
      ok &= f.is_ready();
    }
    return ok;
  });
}

}  // namespace

#define BENCH_STR2(x) #x
#define BENCH_STR(x) BENCH_STR2(x)

void bench::describe(Registry& r) {
  r.implementation = "boost-future";
  r.version = "Boost " BENCH_STR(BOOST_VERSION);
  r.add("chain", chain, kMaxN);
  r.add("chain-typed", chain, kMaxN);  // chain is typed already
  r.add("fired-chain", firedChain, kMaxN);
  r.add("errback-return", errbackReturn, kMaxN);
  r.add("errback-throw", errbackThrow, kMaxN);
  r.add("recover", recover, kMaxN);
  r.na("skip",
       "boost::future has no success-only continuation: every .then runs, a failure passes "
       "only by being rethrown (that is errback-throw)");
  r.add("nested-ready", nestedReady, kMaxN);
  r.add("nested-later", nestedLater, kMaxN);
  r.add("list", list, kMaxN);
  r.add("list-reverse", listReverse, kMaxN);
  r.add("gather", list, kMaxN);  // when_all is both
  r.na("cancel", "boost::future has no cancellation");
  r.na("await", "boost::future is not awaitable (no coroutine support)");
  r.na("await-later", "boost::future is not awaitable (no coroutine support)");
  r.add("new", make);
}

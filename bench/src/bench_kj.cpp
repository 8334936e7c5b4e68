// Cap'n Proto's KJ promises: kj::Promise::then on a kj::EventLoop, waited on
// with a kj::WaitScope. Callbacks run from the event loop (inside wait()),
// never inside then() or fulfill(). Cancelling a KJ promise is dropping it;
// the "canceller" is an attached kj::defer. Debian's KJ (0.9) has no
// coroutine support: await is n/a.
#include <kj/async.h>
#include <kj/common.h>
#include <kj/debug.h>
#include <kj/exception.h>

#include <vector>

#include "harness.h"

#ifndef BENCH_KJ_VERSION
#define BENCH_KJ_VERSION "?"
#endif

namespace {

const auto pass = [](int v) { return v; };

// One event loop for the whole process (KJ allows one per thread).
kj::WaitScope& waitScope() {
  static kj::EventLoop loop;
  static kj::WaitScope scope(loop);
  return scope;
}

kj::Exception failure() { return KJ_EXCEPTION(FAILED, "x"); }

bool broken(kj::Promise<int>&& p) {
  return p.then([](int) { return false; }, [](kj::Exception&&) { return true; })
      .wait(waitScope());
}

void chain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) p = p.then(pass);
    paf.fulfiller->fulfill(0);
    return p.wait(waitScope()) == 0;
  });
}

void firedChain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    kj::Promise<int> p(0);
    for (std::int64_t i = 0; i < n; ++i) p = p.then(pass);
    return p.wait(waitScope()) == 0;
  });
}

void errbackReturn(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) {
      p = p.catch_([](kj::Exception&& e) { return kj::Promise<int>(kj::mv(e)); });
    }
    paf.fulfiller->reject(failure());
    return broken(kj::mv(p));
  });
}

void errbackThrow(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) {
      p = p.catch_([](kj::Exception&& e) -> int { kj::throwFatalException(kj::mv(e)); });
    }
    paf.fulfiller->reject(failure());
    return broken(kj::mv(p));
  });
}

void recover(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) {
      p = p.then([](int) -> int { kj::throwFatalException(failure()); },
                 [](kj::Exception&&) { return 0; });
    }
    paf.fulfiller->reject(failure());
    if (n % 2 == 1) return p.wait(waitScope()) == 0;
    return broken(kj::mv(p));
  });
}

void skip(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) p = p.then(pass);
    paf.fulfiller->reject(failure());
    return broken(kj::mv(p));
  });
}

void nestedReady(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) {
      p = p.then([](int v) { return kj::Promise<int>(v); });
    }
    paf.fulfiller->fulfill(0);
    return p.wait(waitScope()) == 0;
  });
}

struct Inner {
  std::vector<kj::Promise<int>> promises;
  std::vector<kj::Own<kj::PromiseFulfiller<int>>> fulfillers;
};
Inner makeInner(std::int64_t n) {
  Inner c;
  c.promises.reserve(static_cast<std::size_t>(n));
  c.fulfillers.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    c.promises.push_back(kj::mv(paf.promise));
    c.fulfillers.push_back(kj::mv(paf.fulfiller));
  }
  return c;
}

void nestedLater(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); }, [n](Inner& c) {
    auto paf = kj::newPromiseAndFulfiller<int>();
    kj::Promise<int> p = kj::mv(paf.promise);
    for (std::int64_t i = 0; i < n; ++i) {
      kj::Promise<int>* inner = &c.promises[static_cast<std::size_t>(i)];
      p = p.then([inner](int) { return kj::mv(*inner); });
    }
    paf.fulfiller->fulfill(0);
    for (auto& f : c.fulfillers) f->fulfill(0);
    return p.wait(waitScope()) == 0;
  });
}

template <bool kReverse>
bool joined(Inner& c) {
  auto builder = kj::heapArrayBuilder<kj::Promise<int>>(c.promises.size());
  for (auto& p : c.promises) builder.add(kj::mv(p));
  kj::Promise<kj::Array<int>> all = kj::joinPromises(builder.finish());
  if constexpr (kReverse) {
    for (std::size_t i = c.fulfillers.size(); i-- > 0;) c.fulfillers[i]->fulfill(1);
  } else {
    for (auto& f : c.fulfillers) f->fulfill(1);
  }
  kj::Array<int> results = all.wait(waitScope());
  return results.size() == c.fulfillers.size() && results[results.size() - 1] == 1;
}

void list(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); },
                 [](Inner& c) { return joined<false>(c); });
}
void listReverse(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeInner(n); },
                 [](Inner& c) { return joined<true>(c); });
}

void cancel(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    std::int64_t cancelled = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      auto paf = kj::newPromiseAndFulfiller<int>();
      kj::Promise<int> p = paf.promise.catch_([](kj::Exception&&) { return 0; })
                               .attach(kj::defer([&cancelled] { ++cancelled; }));
      p = nullptr;  // cancels: destroys the pending continuation, runs the deferral
    }
    return cancelled == n;
  });
}

void make(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    bool ok = true;
    for (std::int64_t i = 0; i < n; ++i) {
      auto paf = kj::newPromiseAndFulfiller<int>();
      paf.fulfiller->fulfill(0);
      ok &= paf.fulfiller->isWaiting() == false;
    }
    return ok;
  });
}

}  // namespace

void bench::describe(Registry& r) {
  r.implementation = "kj";
  r.version = "Cap'n Proto KJ " BENCH_KJ_VERSION;
  waitScope();
  r.add("chain", chain);
  r.add("chain-typed", chain);  // chain is typed already
  r.add("fired-chain", firedChain);
  r.add("errback-return", errbackReturn);
  r.add("errback-throw", errbackThrow);
  r.add("recover", recover);
  r.add("skip", skip);
  r.add("nested-ready", nestedReady);
  r.add("nested-later", nestedLater);
  r.add("list", list);  // joinPromises: the whole fails with the first failure
  r.add("list-reverse", listReverse);
  r.add("gather", list);
  r.add("cancel", cancel);
  r.add("new", make);
  r.na("await", "Debian's KJ (0.9) has no coroutine support (co_await on kj::Promise is 0.10+)");
  r.na("await-later", "Debian's KJ (0.9) has no coroutine support (co_await on kj::Promise is 0.10+)");
}

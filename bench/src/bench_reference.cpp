// The bundled C++ reference (deferred::Deferred).
//
#include <deferred/coroutine.h>
#include <deferred/deferred.h>
#include <deferred/list.h>

#include <stdexcept>
#include <vector>

#include "harness.h"

namespace {

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;

// Twisted's passthru: any result, returned as is.
const auto pass = [](Value v) { return v; };
const auto returnFailure = [](const Failure& f) { return f; };
const auto consume = [](const Failure&) {};

bool isInt(const Deferred& d, int expected) {
  const int* v = d.result().getIf<int>();
  return v != nullptr && *v == expected;
}

void chain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) d.addCallback(pass);
    d.callback(0);
    return isInt(d, 0);
  });
}

// Typed, and capturing two pointers (the most a handler may capture and still
// be stored without an allocation): the allocation target is checked here.
int gLow = 0, gHigh = 1;

void chainTyped(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    const int* lo = &gLow;
    const int* hi = &gHigh;
    for (std::int64_t i = 0; i < n; ++i) {
      d.addCallback([lo, hi](int v) { return v < *lo ? *lo : (v > *hi ? *hi : v); });
    }
    d.callback(0);
    return isInt(d, 0);
  });
}

void firedChain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d = deferred::succeed(0);
    for (std::int64_t i = 0; i < n; ++i) d.addCallback(pass);
    return isInt(d, 0);
  });
}

void errbackReturn(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) d.addErrback(returnFailure);
    d.errback(std::runtime_error("x"));
    const bool ok = d.isFailure();
    d.addErrback(consume);
    return ok;
  });
}

void errbackThrow(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) {
      d.addErrback([](const Failure& f) { f.raise(); });
    }
    d.errback(std::runtime_error("x"));
    const bool ok = d.isFailure();
    d.addErrback(consume);
    return ok;
  });
}

void recover(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) {
      d.addCallbacks([](Value) { return Failure(std::runtime_error("x")); },
                     [](const Failure&) { return 0; });
    }
    d.errback(std::runtime_error("x"));
    const bool ok = (n % 2 == 1) ? isInt(d, 0) : d.isFailure();
    d.addErrback(consume);
    return ok;
  });
}

void skip(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) d.addCallback(pass);
    d.errback(std::runtime_error("x"));
    const bool ok = d.isFailure();
    d.addErrback(consume);
    return ok;
  });
}

void nestedReady(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Deferred d;
    for (std::int64_t i = 0; i < n; ++i) {
      d.addCallback([](Value v) { return deferred::succeed(std::move(v)); });
    }
    d.callback(0);
    return isInt(d, 0);
  });
}

struct Inner {
  std::vector<Deferred> inner;
};

void nestedLater(benchmark::State& st, std::int64_t n) {
  bench::measure(
      st, n,
      [n] {
        Inner c;
        c.inner.resize(static_cast<std::size_t>(n));
        return c;
      },
      [n](Inner& c) {
        Deferred d;
        for (std::int64_t i = 0; i < n; ++i) {
          d.addCallback([p = &c.inner[static_cast<std::size_t>(i)]](Value) { return *p; });
        }
        d.callback(0);
        for (Deferred& x : c.inner) x.callback(0);
        return isInt(d, 0);
      });
}

void cancel(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    std::int64_t cancelled = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      Deferred d([&cancelled](Deferred&) { ++cancelled; });
      d.addErrback(consume);
      d.cancel();
    }
    return cancelled == n;
  });
}

void make(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    bool ok = true;
    for (std::int64_t i = 0; i < n; ++i) {
      Deferred d;
      d.callback(0);
      ok &= d.hasResult();
    }
    return ok;
  });
}

// --- aggregates: n members (made before timing); the timed region makes the
// list over them and fires them.
struct ListMembers {
  std::vector<Deferred> members;
};
ListMembers makeListMembers(std::int64_t n) {
  return ListMembers{std::vector<Deferred>(static_cast<std::size_t>(n))};
}

template <bool kReverse, bool kGather>
bool aggregate(ListMembers& m, std::int64_t n) {
  Deferred all = kGather ? deferred::gatherResults(m.members)
                         : deferred::deferredList(m.members);
  if constexpr (kReverse) {
    for (std::size_t i = m.members.size(); i-- > 0;) m.members[i].callback(0);
  } else {
    for (Deferred& d : m.members) d.callback(0);
  }
  if (!all.hasResult()) return false;
  if constexpr (kGather) {
    return all.result().get<deferred::ValueList>().size() == static_cast<std::size_t>(n);
  } else {
    return all.result().get<deferred::ListResult>().size() == static_cast<std::size_t>(n);
  }
}

template <bool kReverse, bool kGather>
void aggregateWorkload(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeListMembers(n); },
                 [n](ListMembers& m) { return aggregate<kReverse, kGather>(m, n); });
}

// --- await: one coroutine awaiting n Deferreds (made and, for `await`,
// fired before timing).
Deferred sumAwaited(std::vector<Deferred>* members) {
  std::int64_t sum = 0;
  for (Deferred& d : *members) sum += (co_await d).get<int>();
  co_return sum;
}

ListMembers makeFiredMembers(std::int64_t n) {
  ListMembers m;
  m.members.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) m.members.push_back(deferred::succeed(1));
  return m;
}

void awaitFired(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeFiredMembers(n); }, [n](ListMembers& m) {
    Deferred sum = sumAwaited(&m.members);
    return sum.hasResult() && sum.result().get<std::int64_t>() == n;
  });
}

void awaitLater(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeListMembers(n); }, [n](ListMembers& m) {
    Deferred sum = sumAwaited(&m.members);
    for (Deferred& d : m.members) d.callback(1);
    return sum.hasResult() && sum.result().get<std::int64_t>() == n;
  });
}

void registerAggregates(bench::Registry& r) {
  r.add("list", aggregateWorkload<false, false>);
  r.add("list-reverse", aggregateWorkload<true, false>);
  r.add("gather", aggregateWorkload<false, true>);
  r.add("await", awaitFired);
  r.add("await-later", awaitLater);
}

}  // namespace

void bench::describe(Registry& r) {
  r.implementation = "reference";
  r.version = "deferred (this repository)";
  r.add("chain", chain);
  r.add("chain-typed", chainTyped);
  r.add("fired-chain", firedChain);
  r.add("errback-return", errbackReturn);
  r.add("errback-throw", errbackThrow);
  r.add("recover", recover);
  r.add("skip", skip);
  r.add("nested-ready", nestedReady);
  r.add("nested-later", nestedLater);
  r.add("cancel", cancel);
  r.add("new", make);
  registerAggregates(r);
}

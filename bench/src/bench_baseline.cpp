// The baseline that nothing can beat by much: the same shape of work with no
// Deferred at all. A chain is a std::vector of steps {callback, errback}
// (std::function, empty = pass the result on), built then run by a plain loop
// over a value-or-error variant. A handler that throws puts the exception on
// the error path, as in a Deferred.
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <variant>
#include <vector>

#include "harness.h"

namespace {

using Result = std::variant<int, std::exception_ptr>;
using Handler = std::function<Result(Result&&)>;

struct Step {
  Handler callback;  // empty: pass on
  Handler errback;   // empty: pass on
};

inline void apply(Step& step, Result& r) {
  Handler& h = r.index() == 0 ? step.callback : step.errback;
  if (!h) return;
  try {
    r = h(std::move(r));
  } catch (...) {
    r = std::current_exception();
  }
}

inline void runSteps(std::vector<Step>& steps, Result& r) {
  for (Step& s : steps) apply(s, r);
}

const auto pass = [](Result&& r) -> Result { return std::move(r); };

bool isInt(const Result& r, int expected) {
  return r.index() == 0 && std::get<0>(r) == expected;
}

template <class Fill>
bool chainOf(std::int64_t n, Result r, Fill fill, Result& out) {
  std::vector<Step> steps;
  for (std::int64_t i = 0; i < n; ++i) steps.push_back(fill());
  runSteps(steps, r);
  out = std::move(r);
  return true;
}

void chain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r;
    chainOf(n, 0, [] { return Step{pass, {}}; }, r);
    return isInt(r, 0);
  });
}

void firedChain(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      Step s{pass, {}};  // added to a fired chain: runs at once
      apply(s, r);
    }
    return isInt(r, 0);
  });
}

void errbackReturn(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r;
    chainOf(n, std::make_exception_ptr(std::runtime_error("x")),
            [] { return Step{{}, pass}; }, r);
    return r.index() == 1;
  });
}

void errbackThrow(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r;
    chainOf(n, std::make_exception_ptr(std::runtime_error("x")),
            [] {
              return Step{{}, [](Result&& e) -> Result {
                            std::rethrow_exception(std::get<1>(e));
                          }};
            },
            r);
    return r.index() == 1;
  });
}

void recover(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r;
    chainOf(n, std::make_exception_ptr(std::runtime_error("x")),
            [] {
              return Step{[](Result&&) -> Result {
                            return std::make_exception_ptr(std::runtime_error("x"));
                          },
                          [](Result&&) -> Result { return 0; }};
            },
            r);
    return n % 2 == 1 ? isInt(r, 0) : r.index() == 1;
  });
}

void skip(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Result r;
    chainOf(n, std::make_exception_ptr(std::runtime_error("x")),
            [] { return Step{pass, {}}; }, r);
    return r.index() == 1;
  });
}

// --- aggregates: n slots (made before timing) whose callbacks, set in the
// timed region, store the member's result; the last one completes the whole.
struct Slot {
  std::function<void(Result&&)> onResult;
};
struct Members {
  std::vector<Slot> slots;
};
Members makeMembers(std::int64_t n) {
  Members m;
  m.slots.resize(static_cast<std::size_t>(n));
  return m;
}

template <bool kReverse>
bool aggregate(Members& m, std::int64_t n) {
  std::vector<Result> results(static_cast<std::size_t>(n));
  std::int64_t remaining = n;
  bool done = false;
  for (std::size_t i = 0; i < m.slots.size(); ++i) {
    m.slots[i].onResult = [&results, &remaining, &done, i](Result&& r) {
      results[i] = std::move(r);
      if (--remaining == 0) done = true;
    };
  }
  if constexpr (kReverse) {
    for (std::size_t i = m.slots.size(); i-- > 0;) m.slots[i].onResult(0);
  } else {
    for (Slot& s : m.slots) s.onResult(0);
  }
  return done;
}

void list(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeMembers(n); },
                 [n](Members& m) { return aggregate<false>(m, n); });
}
void listReverse(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, [n] { return makeMembers(n); },
                 [n](Members& m) { return aggregate<true>(m, n); });
}

// --- cancel: an operation with a canceller and one errback step.
struct CancelledError : std::runtime_error {
  CancelledError() : std::runtime_error("cancelled") {}
};

void cancel(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    std::int64_t cancelled = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      std::function<void()> canceller = [&cancelled] { ++cancelled; };
      Step step{{}, [](Result&&) -> Result { return 0; }};
      canceller();
      Result r = std::make_exception_ptr(CancelledError());
      apply(step, r);
    }
    return cancelled == n;
  });
}

// --- await: a C++20 coroutine with no Deferred: awaiting a ready value, or a
// slot resumed from outside.
struct Task {
  struct promise_type {
    Task get_return_object() {
      return Task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(int v) { result = v; }
    void unhandled_exception() { std::terminate(); }
    std::optional<int> result;
  };
  explicit Task(std::coroutine_handle<promise_type> h) : handle(h) {}
  Task(Task&& o) noexcept : handle(std::exchange(o.handle, {})) {}
  ~Task() {
    if (handle) handle.destroy();
  }
  std::coroutine_handle<promise_type> handle;
};

struct Ready {
  int value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return value; }
};

struct Later {
  std::coroutine_handle<>* slot;
  int* value;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept { *slot = h; }
  int await_resume() const noexcept { return *value; }
};

Task awaitReady(std::int64_t n) {
  int sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += co_await Ready{0};
  co_return sum;
}

Task awaitLater(std::int64_t n, std::coroutine_handle<>* slot, int* value) {
  int sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += co_await Later{slot, value};
  co_return sum;
}

void awaitFired(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    Task t = awaitReady(n);
    return t.handle.promise().result == 0;
  });
}

void awaitLaterW(benchmark::State& st, std::int64_t n) {
  bench::measure(st, n, bench::none, [n](bench::None&) {
    std::coroutine_handle<> slot;
    int value = 0;
    Task t = awaitLater(n, &slot, &value);
    for (std::int64_t i = 0; i < n; ++i) slot.resume();
    return t.handle.promise().result == 0;
  });
}

}  // namespace

void bench::describe(Registry& r) {
  r.implementation = "baseline";
  r.version = "std::function + std::variant loop";
  r.add("chain", chain);
  r.add("chain-typed", chain);  // chain is typed already
  r.add("fired-chain", firedChain);
  r.add("errback-return", errbackReturn);
  r.add("errback-throw", errbackThrow);
  r.add("recover", recover);
  r.add("skip", skip);
  r.na("nested-ready", "nothing nests without a Deferred-like type");
  r.na("nested-later", "nothing nests without a Deferred-like type");
  r.add("list", list);
  r.add("list-reverse", listReverse);
  r.add("gather", list);  // the same work: n slots, results stored, count down
  r.add("cancel", cancel);
  r.add("await", awaitFired);
  r.add("await-later", awaitLaterW);
  r.na("new", "there is no Deferred to make");
}

// Coroutines over Deferreds (Twisted 22.4's ensureDeferred semantics).
#include <deferred/coroutine.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {

// Whether the Deferred's state still exists (white box: the library's weak
// handle), to check that nothing is leaked.
struct Watch {
  deferred::detail::WeakDeferred weak;
  explicit Watch(const Deferred& d) : weak(d) {}
  bool alive() const { return weak.lock().has_value(); }
};

// Destroyed with the coroutine frame that holds it.
struct Probe {
  std::shared_ptr<int> token = std::make_shared<int>(0);
  std::weak_ptr<int> watch() const { return token; }
};

Deferred addOne(Deferred input) {
  Value v = co_await input;
  co_return v.get<int>() + 1;
}

Deferred logged(Log& log, const Deferred& input) {
  log.push_back("start");
  Value v = co_await input;
  log.push_back("resumed with " + std::to_string(v.get<int>()));
  co_return std::string("end");
}

}  // namespace

// --- Running and returning -------------------------------------------------------

TEST(Coroutine, RunsAtOnceAndFiresWithItsReturnValue) {
  Deferred d = addOne(deferred::succeed(41));
  ASSERT_TRUE(d.hasResult());
  EXPECT_EQ(d.result().get<int>(), 42);
}

TEST(Coroutine, RunsSynchronouslyUntilAPendingAwait) {
  Log log;
  Deferred input;
  Deferred d = logged(log, input);
  EXPECT_EQ(log, Log{"start"});
  EXPECT_FALSE(d.called());
  d.addCallback([&](const std::string& s) { log.push_back("cb " + s); });
  input.callback(7);  // resumes inside callback(), and fires d there
  EXPECT_EQ(log, (Log{"start", "resumed with 7", "cb end"}));
}

TEST(Coroutine, CoReturnOfAFailureFailsItsDeferred) {
  auto body = []() -> Deferred { co_return Failure(std::invalid_argument("as a value")); };
  Deferred d = body();
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_EQ(d.failure()->message(), "as a value");
  d.addErrback([](const Failure&) {});
}

TEST(Coroutine, CoReturnOfADeferredFailsWithNestedDeferredError) {
  Deferred other;
  auto body = [](Deferred x) -> Deferred { co_return x; };
  Deferred d = body(other);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<deferred::NestedDeferredError>().has_value());
  d.addErrback([](const Failure&) {});
}

TEST(Coroutine, EscapingExceptionFailsItsDeferred) {
  auto early = []() -> Deferred {
    throw std::runtime_error("early");
    co_return Value();
  };
  Deferred d = early();
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<std::runtime_error>().has_value());
  d.addErrback([](const Failure&) {});

  auto late = [](Deferred input) -> Deferred {
    co_await input;
    throw 42;  // any type
  };
  Deferred input;
  Deferred e = late(input);
  input.callback();
  ASSERT_NE(e.failure(), nullptr);
  EXPECT_EQ(e.failure()->check<int>(), 0u);
  e.addErrback([](const Failure&) {});
}

TEST(Coroutine, WorksAsMemberFunctionAndLambda) {
  struct Service {
    int base = 10;
    Deferred fetch(Deferred x) {
      int v = co_await deferred::as<int>(x);
      co_return base + v;
    }
  };
  Service s;
  EXPECT_EQ(s.fetch(deferred::succeed(5)).result().get<int>(), 15);
}

// --- What an await gives, and what it does to the awaited Deferred -----------------

TEST(Coroutine, AwaitingAFiredDeferredDoesNotSuspendAndLeavesItsResult) {
  Deferred input = deferred::succeed(1);
  Deferred d = addOne(input);
  EXPECT_EQ(d.result().get<int>(), 2);
  EXPECT_EQ(input.result().get<int>(), 1);  // a copy was taken
  EXPECT_EQ(input.pendingSteps(), 0u);      // no step was added
}

TEST(Coroutine, AwaitingAPendingDeferredConsumesItsResult) {
  Log log;
  Deferred input;
  input.addCallback([](int x) { return x * 10; });  // before the await: shapes the value
  Deferred d = addOne(input);
  input.addBoth([&](const Value& v) { log.push_back(v.isNull() ? "null" : "value"); });
  input.callback(1);
  EXPECT_EQ(d.result().get<int>(), 11);
  EXPECT_TRUE(input.result().isNull());  // the resuming step left null
  EXPECT_EQ(log, Log{"null"});
}

TEST(Coroutine, AnAwaitedTemporaryIsHeldUntilTheAwaitEndsOrSuspends) {
  auto awaitIt = [](Deferred d) -> Deferred {
    Value v = co_await std::move(d);  // the awaiter holds the only handle
    co_return v;
  };
  std::optional<Watch> watch;
  {
    Deferred fired = deferred::succeed(5);
    watch.emplace(fired);
    Deferred d = awaitIt(std::move(fired));
    EXPECT_EQ(d.result().get<int>(), 5);
  }
  EXPECT_FALSE(watch->alive());  // released when the await ended

  Deferred pending;
  watch.emplace(pending);
  Deferred d = awaitIt(pending);
  pending = Deferred();          // the frame let go of it when it suspended:
  EXPECT_FALSE(watch->alive());  // gone, with the frame
  EXPECT_FALSE(d.called());
}

TEST(Coroutine, AwaitingAPausedFiredDeferredWaitsForUnpause) {
  Deferred input = deferred::succeed(1);
  input.pause();
  Deferred d = addOne(input);
  EXPECT_FALSE(d.called());
  input.unpause();
  EXPECT_EQ(d.result().get<int>(), 2);
  EXPECT_TRUE(input.result().isNull());
}

TEST(Coroutine, AwaitingAWaitingDeferredWaitsForItsInner) {
  Deferred inner, outer;
  outer.addCallback([&](Value) { return inner; });
  outer.callback(0);
  ASSERT_TRUE(outer.isWaiting());
  Deferred d = addOne(outer);
  EXPECT_FALSE(d.called());
  inner.callback(5);
  EXPECT_EQ(d.result().get<int>(), 6);
}

TEST(Coroutine, TypedAwait) {
  auto body = [](Deferred a, Deferred b) -> Deferred {
    int n = co_await deferred::as<int>(a);
    std::string s = co_await deferred::as<std::string>(std::move(b));
    co_return s + std::to_string(n);
  };
  Deferred later;
  Deferred d = body(deferred::succeed(3), later);
  later.callback(std::string("x"));
  EXPECT_EQ(d.result().get<std::string>(), "x3");
}

TEST(Coroutine, TypedAwaitOfAnotherTypeThrowsTypeMismatchError) {
  Log log;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await deferred::as<int>(x);
    } catch (const deferred::TypeMismatchError& e) {
      log.push_back(e.what());
    }
    co_return Value();
  };
  Deferred fired = deferred::succeed(std::string("text"));
  body(fired);
  EXPECT_EQ(fired.result().get<std::string>(), "text");  // left in place
  Deferred later;
  body(later);
  later.callback(2.5);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(log[0].find("int"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("std::string"), std::string::npos) << log[0];
  EXPECT_NE(log[1].find("double"), std::string::npos) << log[1];
}

TEST(Coroutine, MoveOnlyResults) {
  auto body = [](const Deferred& x) -> Deferred {
    std::unique_ptr<int> p = co_await deferred::as<std::unique_ptr<int>>(x);
    co_return *p;
  };
  Deferred fired = deferred::succeed(std::make_unique<int>(4));
  EXPECT_EQ(body(fired).result().get<int>(), 4);
  EXPECT_TRUE(fired.result().isNull());  // could not be copied: moved out
  Deferred later;
  Deferred d = body(later);
  later.callback(std::make_unique<int>(5));
  EXPECT_EQ(d.result().get<int>(), 5);
}

namespace {
// Trivially copyable, yet not copyable.
struct MoveOnlyToken {
  int n;
  explicit MoveOnlyToken(int v) : n(v) {}
  MoveOnlyToken(MoveOnlyToken&&) = default;
  MoveOnlyToken(const MoveOnlyToken&) = delete;
};

// Copyable, but its copy throws.
struct CopyThrows {
  CopyThrows() = default;
  CopyThrows(const CopyThrows&) { throw 42; }
  CopyThrows(CopyThrows&&) noexcept = default;
};
}  // namespace

TEST(Coroutine, AFiredValueWhoseCopyThrowsThrowsAtTheAwaitAndStays) {
  std::string caught;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await x;
    } catch (int e) {
      caught = std::to_string(e);
    }
    co_return Value();
  };
  Deferred fired = deferred::succeed(CopyThrows{});
  body(fired);
  EXPECT_EQ(caught, "42");
  EXPECT_TRUE(fired.result().is<CopyThrows>());
}

TEST(Coroutine, UntypedAwaitOfAFiredValueThatCannotBeCopiedMovesItOut) {
  auto body = [](const Deferred& x) -> Deferred {
    Value v = co_await x;
    if (auto* p = v.getIf<std::unique_ptr<int>>()) co_return **p;
    co_return v.get<MoveOnlyToken>().n;
  };
  Deferred pointer = deferred::succeed(std::make_unique<int>(4));
  EXPECT_EQ(body(pointer).result().get<int>(), 4);
  EXPECT_TRUE(pointer.result().isNull());
  Deferred token = deferred::succeed(MoveOnlyToken(5));
  EXPECT_EQ(body(token).result().get<int>(), 5);
  EXPECT_TRUE(token.result().isNull());
}

// --- Failures -------------------------------------------------------------------------

TEST(Coroutine, TypedAwaitOfAFailedDeferredThrowsItsFailure) {
  std::string caught;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await deferred::as<int>(x);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    co_return Value();
  };
  Deferred failed = deferred::fail(std::runtime_error("bad"));
  body(failed);
  EXPECT_EQ(caught, "bad");
}

TEST(Coroutine, FailureIsThrownAtTheAwaitWithItsOriginalType) {
  Log log;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await x;
      log.push_back("no error");
    } catch (const std::invalid_argument& e) {
      log.push_back(std::string("caught ") + e.what());
      co_return std::string("recovered");
    }
    co_return Value();
  };
  Deferred later;
  Deferred d = body(later);
  later.errback(std::invalid_argument("bad"));
  Deferred e = body(deferred::fail(std::invalid_argument("worse")));
  EXPECT_EQ(log, (Log{"caught bad", "caught worse"}));
  EXPECT_EQ(d.result().get<std::string>(), "recovered");
  EXPECT_EQ(e.result().get<std::string>(), "recovered");
}

TEST(Coroutine, FailureIsRecoverableAsTheSameException) {
  Failure original(std::runtime_error("boom"));
  std::exception_ptr seen;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await x;
    } catch (...) {
      seen = Failure::current().exception();
    }
    co_return Value();
  };
  Deferred later;
  body(later);
  later.errback(original);
  EXPECT_EQ(seen, original.exception());  // the very exception object
}

TEST(Coroutine, NonExceptionErrorsAreThrownAsTheirType) {
  int caught = 0;
  auto body = [&](const Deferred& x) -> Deferred {
    try {
      co_await x;
    } catch (int n) {
      caught = n;
    }
    co_return Value();
  };
  body(deferred::fail(Failure(7)));
  EXPECT_EQ(caught, 7);
}

TEST(Coroutine, UncaughtFailureFailsTheCoroutineWithIt) {
  Failure original(std::invalid_argument("passes through"));
  Deferred later;
  Deferred d = addOne(later);
  later.errback(original);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_EQ(d.failure()->exception(), original.exception());
  EXPECT_TRUE(later.result().isNull());  // consumed
  d.addErrback([](const Failure&) {});
}

TEST(Coroutine, AnAwaitedFailureIsNoLongerUnhandled) {
  int reports = 0;
  auto previous = deferred::setUnhandledErrorSink([&](const Failure&) { ++reports; });
  auto body = [](const Deferred& x) -> Deferred {
    try {
      co_await x;
    } catch (const std::exception&) {
    }
    co_return Value();
  };
  {
    Deferred fired = deferred::fail(std::runtime_error("seen"));
    body(fired);
    EXPECT_TRUE(fired.isFailure());  // it keeps its result...
  }                                  // ...but it was handled: no report
  {
    Deferred later;
    body(later);
    later.errback(std::runtime_error("seen"));
  }
  deferred::setUnhandledErrorSink(previous);
  EXPECT_EQ(reports, 0);
}

TEST(Coroutine, UnhandledCoroutineFailureIsReported) {
  std::vector<std::string> reports;
  auto previous =
      deferred::setUnhandledErrorSink([&](const Failure& f) { reports.push_back(f.message()); });
  auto body = []() -> Deferred {
    throw std::runtime_error("escaped");
    co_return Value();
  };
  body();  // dropped at once
  deferred::setUnhandledErrorSink(previous);
  EXPECT_EQ(reports, std::vector<std::string>{"escaped"});
}

// --- Composition --------------------------------------------------------------------

TEST(Coroutine, AwaitsAnotherCoroutine) {
  Deferred input;
  Deferred inner = addOne(input);
  Deferred outer = addOne(inner);
  input.callback(1);
  EXPECT_EQ(outer.result().get<int>(), 3);
  EXPECT_TRUE(inner.result().isNull());  // consumed by the outer await
}

TEST(Coroutine, AHandlerReturningACoroutinesDeferredWaitsForIt) {
  Deferred input;
  Deferred chain;
  chain.addCallback([&](Value) { return addOne(input); });
  chain.callback(0);
  EXPECT_TRUE(chain.isWaiting());
  input.callback(1);
  EXPECT_EQ(chain.result().get<int>(), 2);
}

TEST(Coroutine, ACascadeOfNestedCoroutinesCompletes) {
  // Each level awaits the one below; the innermost completes last. (Each
  // level resumes inside the previous one's completion, as in Twisted: depth
  // grows with nesting, not with the number of awaits.)
  Deferred input;
  Deferred top = input;
  for (int i = 0; i < 1000; ++i) top = addOne(top);
  input.callback(0);
  EXPECT_EQ(top.result().get<int>(), 1000);
}

TEST(Coroutine, AFireAndForgetCoroutineStillRunsToItsEnd) {
  Log log;
  Deferred input;
  logged(log, input).addCallback([&](Value) { log.push_back("callback"); });
  input.callback(1);  // nobody else held the coroutine's Deferred
  EXPECT_EQ(log, (Log{"start", "resumed with 1", "callback"}));
}

// --- Firing the coroutine's Deferred by hand ----------------------------------------

TEST(Coroutine, FiredByHandItsOwnEndRaisesAlreadyCalledErrorAtTheResumer) {
  Probe probe;
  std::weak_ptr<int> frame = probe.watch();
  auto body = [](Deferred* x, Probe p) -> Deferred {
    co_await *x;
    (void)p;
    co_return 1;
  };
  Deferred input;
  Deferred d = body(&input, std::move(probe));
  d.callback(std::string("by hand"));
  input.callback(0);
  ASSERT_NE(input.failure(), nullptr);  // the resumer's chain got it, as in Twisted
  EXPECT_TRUE(input.failure()->check<deferred::AlreadyCalledError>().has_value());
  EXPECT_EQ(d.result().get<std::string>(), "by hand");
  EXPECT_TRUE(frame.expired());  // the frame ended and is freed
  input.addErrback([](const Failure&) {});
}

// --- Cancellation ---------------------------------------------------------------------

TEST(Coroutine, CancelDeliversCancelledErrorAtTheAwait) {
  Log log;
  Deferred input([&](Deferred&) { log.push_back("input cancelled"); });
  Deferred d = addOne(input);
  d.cancel();
  EXPECT_EQ(log, Log{"input cancelled"});
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<deferred::CancelledError>().has_value());
  d.addErrback([](const Failure&) {});
  d.cancel();  // finished: nothing happens
  EXPECT_TRUE(d.hasResult());
}

TEST(Coroutine, CancelledCoroutineMayCatchAndReturn) {
  auto body = [](const Deferred& x) -> Deferred {
    try {
      co_await x;
    } catch (const deferred::CancelledError&) {
      co_return std::string("cleaned up");
    }
    co_return std::string("unreachable");
  };
  Deferred input;
  Deferred d = body(input);
  d.cancel();
  EXPECT_EQ(d.result().get<std::string>(), "cleaned up");
  EXPECT_TRUE(input.result().isNull());  // the CancelledError was consumed
}

TEST(Coroutine, TheAwaitedCancellerMaySupplyTheValue) {
  Deferred input([](Deferred& self) { self.callback(9); });
  Deferred d = addOne(input);
  d.cancel();
  EXPECT_EQ(d.result().get<int>(), 10);
}

TEST(Coroutine, AfterCancelItsDeferredWaitsUntilTheCoroutineEnds) {
  Log log;
  Deferred first, second;
  auto body = [&]() -> Deferred {
    try {
      co_await first;
    } catch (const deferred::CancelledError&) {
      log.push_back("first cancelled");
    }
    try {
      co_await second;
    } catch (const deferred::CancelledError&) {
      log.push_back("second cancelled");
      co_return std::string("stopped");
    }
    co_return std::string("finished");
  };
  Deferred d = body();
  d.addCallback([&](const std::string& s) { log.push_back("callback " + s); });
  d.cancel();
  EXPECT_EQ(log, Log{"first cancelled"});
  // As in Twisted: it has a result now, an internal Deferred it waits on.
  EXPECT_TRUE(d.called());
  EXPECT_TRUE(d.isWaiting());
  EXPECT_THROW(d.callback(0), deferred::AlreadyCalledError);
  d.cancel();  // again: cancels what the coroutine awaits now
  EXPECT_EQ(log, (Log{"first cancelled", "second cancelled", "callback stopped"}));
  EXPECT_FALSE(d.isWaiting());
}

TEST(Coroutine, AfterCancelTheCoroutinesResultArrivesLater) {
  Deferred first, second;
  auto body = [&]() -> Deferred {
    try {
      co_await first;
    } catch (const deferred::CancelledError&) {
    }
    co_return (co_await deferred::as<int>(second)) + 1;
  };
  Deferred d = body();
  d.cancel();
  EXPECT_TRUE(d.isWaiting());
  second.callback(1);
  EXPECT_EQ(d.result().get<int>(), 2);
}

TEST(Coroutine, ACancellerThatThrowsFailsTheCoroutinesDeferred) {
  Deferred input([](Deferred&) { throw std::runtime_error("cannot cancel"); });
  Deferred d = addOne(input);
  d.cancel();  // Twisted: the exception lands in the coroutine's chain
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_EQ(d.failure()->message(), "cannot cancel");
  input.callback(1);  // the coroutine still ends, into an internal Deferred
  d.addErrback([](const Failure&) {});
}

// --- Awaiting a Deferred whose handler is running -------------------------------------

TEST(Coroutine, AwaitingFromAHandlerOfTheAwaitedGetsItsArgument) {
  Deferred x;
  Deferred inner = deferred::succeed(0);  // replaced below
  x.addCallback([&](Value&& v) {
    inner = addOne(x);  // x is running this handler with v
    return std::move(v);
  });
  x.callback(4);
  EXPECT_EQ(inner.result().get<int>(), 5);
  EXPECT_EQ(x.result().get<int>(), 4);
}

// A handler taking the result by reference reads it in place: the await
// copies it from there (Twisted's send() returns that same object).
TEST(Coroutine, AwaitingFromATypedHandlerOfTheAwaitedGetsItsArgument) {
  Deferred x;
  Deferred inner = deferred::succeed(0);  // replaced below
  x.addCallback([&](const int& v) {
    inner = addOne(x);
    return v;
  });
  x.callback(4);
  EXPECT_EQ(inner.result().get<int>(), 5);
  EXPECT_EQ(x.result().get<int>(), 4);
}

TEST(Coroutine, TypedAwaitFromATypedHandlerOfTheAwaitedGetsItsArgument) {
  Deferred x;
  int seen = 0;
  auto body = [&](const Deferred& d) -> Deferred {
    seen = co_await deferred::as<int>(d);
    co_return Value();
  };
  x.addCallback([&](const int& v) {
    body(x);
    return v + 1;
  });
  x.callback(4);
  EXPECT_EQ(seen, 4);
  EXPECT_EQ(x.result().get<int>(), 5);
}

// Twisted's send() raises the Failure the running errback holds.
TEST(Coroutine, AwaitingFromAnErrbackOfTheAwaitedThrowsItsFailure) {
  std::string caught;
  auto body = [&](const Deferred& d) -> Deferred {
    try {
      co_await d;
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    co_return Value();
  };
  Deferred x;
  x.addErrback([&](const Value&) {
    body(x);
    return Value();
  });
  x.errback(std::runtime_error("boom"));
  EXPECT_EQ(caught, "boom");
  EXPECT_TRUE(x.result().isNull());  // the errback handled it
}

TEST(Coroutine, AwaitingAgainFromTheResumingStepThrowsTypeMismatch) {
  std::string error;
  auto body = [&](const Deferred& x) -> Deferred {
    co_await x;
    try {
      co_await x;  // x is still running the step that resumed us
    } catch (const deferred::TypeMismatchError& e) {
      error = e.what();
    }
    co_return Value();
  };
  Deferred x;
  body(x);
  x.callback(1);
  EXPECT_NE(error.find("took it by value"), std::string::npos) << error;
}

// --- A million awaits, constant stack --------------------------------------------------

namespace {
std::uintptr_t gStackLow = UINTPTR_MAX, gStackHigh = 0;

[[gnu::noinline]] void noteStackDepth() {
  auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  gStackLow = std::min(gStackLow, here);
  gStackHigh = std::max(gStackHigh, here);
}

void resetStackNote() {
  gStackLow = UINTPTR_MAX;
  gStackHigh = 0;
}

Deferred sumFired(int n) {
  long long sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += co_await deferred::as<int>(deferred::succeed(i));
    noteStackDepth();
  }
  co_return sum;
}

Deferred sumLater(const std::vector<Deferred>* inputs) {
  long long sum = 0;
  for (const Deferred& d : *inputs) {
    sum += (co_await d).get<int>();
    noteStackDepth();
  }
  co_return sum;
}

constexpr int kMillion = 1'000'000;
constexpr std::uintptr_t kMaxSpread = 4096;  // bytes: no growth with n
}  // namespace

// Under the default stack (the test's main thread): no await may nest in the
// previous one. The stack depth at every await is recorded; its spread is
// the evidence (written to the test's XML as stack_spread_bytes).
TEST(Coroutine, MillionAwaitsOfFiredDeferredsUseConstantStack) {
  resetStackNote();
  Deferred d = sumFired(kMillion);
  ASSERT_TRUE(d.hasResult());
  EXPECT_EQ(d.result().get<long long>(), 499'999'500'000LL);
  const std::uintptr_t spread = gStackHigh - gStackLow;
  RecordProperty("stack_spread_bytes", std::to_string(spread));
  std::cout << "[ stack    ] 1,000,000 fired awaits: stack depth spread " << spread << " bytes\n";
  EXPECT_LE(spread, kMaxSpread);
}

TEST(Coroutine, MillionAwaitsOfDeferredsFiredLaterUseConstantStack) {
  std::vector<Deferred> inputs(kMillion);
  resetStackNote();
  Deferred d = sumLater(&inputs);
  for (int i = 0; i < kMillion; ++i) inputs[static_cast<std::size_t>(i)].callback(i);
  ASSERT_TRUE(d.hasResult());
  EXPECT_EQ(d.result().get<long long>(), 499'999'500'000LL);
  const std::uintptr_t spread = gStackHigh - gStackLow;
  RecordProperty("stack_spread_bytes", std::to_string(spread));
  std::cout << "[ stack    ] 1,000,000 later-fired awaits: stack depth spread " << spread
            << " bytes\n";
  EXPECT_LE(spread, kMaxSpread);
}

// --- Ownership: nothing leaks -----------------------------------------------------------

namespace {
// Holds a probe in its frame; takes the awaited Deferred by pointer so that
// the frame holds no handle to it.
Deferred holdsProbe(const Deferred* input, Probe probe) {
  Probe mine = std::move(probe);
  co_await *input;
  co_return Value();
}
}  // namespace

TEST(Coroutine, FrameDroppedWhileSuspendedIsDestroyedWithTheAwaitedDeferred) {
  Probe probe;
  std::weak_ptr<int> frame = probe.watch();
  std::optional<Watch> coroutine, awaited;
  {
    Deferred input;
    Deferred d = holdsProbe(&input, std::move(probe));
    coroutine.emplace(d);
    awaited.emplace(input);
    EXPECT_FALSE(frame.expired());
  }  // both handles go: the awaited Deferred, its step, the frame, d
  EXPECT_TRUE(frame.expired());
  EXPECT_FALSE(awaited->alive());
  EXPECT_FALSE(coroutine->alive());
}

TEST(Coroutine, ItsDeferredOutlivingTheFrameNeverFiresAndCancelFailsIt) {
  Probe probe;
  std::weak_ptr<int> frame = probe.watch();
  std::optional<Deferred> input(std::in_place);
  Deferred d = holdsProbe(&*input, std::move(probe));
  input.reset();
  EXPECT_TRUE(frame.expired());
  EXPECT_FALSE(d.called());
  d.cancel();
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<deferred::CancelledError>().has_value());
  d.addErrback([](const Failure&) {});
}

TEST(Coroutine, AwaitingADeferredNobodyElseHoldsDestroysTheFrameAtOnce) {
  Probe probe;
  std::weak_ptr<int> frame = probe.watch();
  auto body = [](Probe p) -> Deferred {
    Probe mine = std::move(p);
    co_await Deferred();  // can never fire
    co_return Value();
  };
  Deferred d = body(std::move(probe));
  EXPECT_TRUE(frame.expired());
  EXPECT_FALSE(d.called());
}

TEST(Coroutine, CancelledThenFrameDroppedFailsWithCancelledErrorAndFreesAll) {
  Probe probe;
  std::weak_ptr<int> frame = probe.watch();
  auto body = [](const Deferred* first, const Deferred* second, Probe p) -> Deferred {
    Probe mine = std::move(p);
    try {
      co_await *first;
    } catch (const deferred::CancelledError&) {
    }
    co_await *second;
    co_return Value();
  };
  Deferred first;
  std::optional<Deferred> second(std::in_place);
  std::optional<Watch> watch;
  Log log;
  {
    Deferred d = body(&first, &*second, std::move(probe));
    watch.emplace(d);
    d.addErrback([&](const Failure& f) {
      log.push_back(f.check<deferred::CancelledError>() ? "cancelled" : "other");
    });
    d.cancel();
    EXPECT_TRUE(d.isWaiting());
  }
  EXPECT_TRUE(watch->alive());  // waiting on the internal Deferred the frame holds
  second.reset();               // the frame goes: the internal Deferred fails
  EXPECT_TRUE(frame.expired());
  EXPECT_EQ(log, Log{"cancelled"});
  EXPECT_FALSE(watch->alive());  // no pair left holding each other
}

TEST(Coroutine, CancelledWhileTheAwaitedDeferredIsBeingDestroyedFailsWithCancelledError) {
  // Found by the scenario fuzzer: two coroutines await a Deferred that has
  // a result but is paused; the first, cancelled, ends when that Deferred
  // goes, and its handler cancels the second, whose awaited Deferred is
  // being destroyed with its steps.
  std::optional<Deferred> input(std::in_place);
  input->pause();
  input->callback(Value(1));
  Deferred first = holdsProbe(&*input, Probe{});
  Deferred second = holdsProbe(&*input, Probe{});
  Log log;
  first.addBoth([second, &log](Value v) mutable {
    log.push_back("first ended");
    second.cancel();
    return v;
  });
  second.addErrback([&log](const Failure& f) {
    log.push_back(f.check<deferred::CancelledError>() ? "second cancelled" : "other");
  });
  first.cancel();
  EXPECT_TRUE(log.empty());
  input.reset();
  EXPECT_EQ(log, (Log{"first ended", "second cancelled"}));
  first.addErrback([](const Failure&) {});
}

namespace {
Deferred awaitThenEnd(const Deferred* awaited) {
  co_await *awaited;
  co_return Value();
}

// Starts `*inner` awaiting `first`, awaits `first` too, then starts another
// coroutine awaiting `*inner`.
Deferred startsAndAwaits(const Deferred* first, Deferred* inner) {
  *inner = awaitThenEnd(first);
  co_await *first;
  awaitThenEnd(inner);
  co_return Value();
}
}  // namespace

TEST(Coroutine, CancelComingBackToACoroutineNotYetSuspendedIsSafe) {
  // Found by the scenario fuzzer: a cancel that comes back, through the
  // awaited Deferred's failure, to a coroutine not suspended yet.
  Deferred first;
  Deferred inner;
  Deferred outer = startsAndAwaits(&first, &inner);
  EXPECT_NO_FATAL_FAILURE(inner.cancel());
  ASSERT_TRUE(inner.called());
  outer.addErrback([](const Failure&) {});
  inner.addErrback([](const Failure&) {});
}

TEST(Coroutine, CompletedCoroutinesLeaveNothingBehind) {
  std::optional<Watch> coroutine, input;
  {
    Deferred x;
    Deferred d = addOne(x);
    coroutine.emplace(d);
    input.emplace(x);
    x.callback(1);
  }
  EXPECT_FALSE(coroutine->alive());
  EXPECT_FALSE(input->alive());
}

// Coroutines over Deferreds (Twisted 22.4's ensureDeferred semantics).
#include <deferred/coroutine.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {

Deferred addOne(Deferred input) {
  Value v = co_await input;
  co_return v.get<int>() + 1;
}

Deferred catching(Deferred input, Log& log) {
  try {
    co_await input;
    log.push_back("no error");
  } catch (const std::invalid_argument& e) {
    log.push_back(std::string("caught ") + e.what());
    co_return std::string("recovered");
  }
  co_return Value();
}

Deferred throwing() {
  throw std::runtime_error("escaped");
  co_return Value();
}

}  // namespace

TEST(Coroutine, RunsAtOnceAndFiresWithItsReturnValue) {
  Deferred d = addOne(deferred::succeed(41));
  ASSERT_TRUE(d.hasResult());
  EXPECT_EQ(d.result().get<int>(), 42);
}

TEST(Coroutine, AwaitingAFiredDeferredLeavesItsResult) {
  Deferred input = deferred::succeed(1);
  Deferred d = addOne(input);
  EXPECT_EQ(d.result().get<int>(), 2);
  EXPECT_EQ(input.result().get<int>(), 1);
}

TEST(Coroutine, SuspendsOnPendingAndConsumesTheResult) {
  Deferred input;
  Deferred d = addOne(input);
  EXPECT_FALSE(d.called());
  input.callback(10);
  EXPECT_EQ(d.result().get<int>(), 11);
  EXPECT_TRUE(input.result().isNull());
}

TEST(Coroutine, FailureIsThrownAtTheAwaitWithItsOriginalType) {
  Log log;
  Deferred input;
  Deferred d = catching(input, log);
  input.errback(std::invalid_argument("bad"));
  EXPECT_EQ(log, Log{"caught bad"});
  EXPECT_EQ(d.result().get<std::string>(), "recovered");
}

TEST(Coroutine, EscapingExceptionFailsItsDeferred) {
  Deferred d = throwing();
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<std::runtime_error>().has_value());
  d.addErrback([](const Failure&) {});
}

TEST(Coroutine, CancelCancelsTheAwaitedDeferred) {
  Log log;
  Deferred input([&](Deferred&) { log.push_back("input cancelled"); });
  Deferred d = addOne(input);
  d.cancel();
  EXPECT_EQ(log, Log{"input cancelled"});
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<deferred::CancelledError>().has_value());
  d.addErrback([](const Failure&) {});
  d.cancel();  // finished: nothing happens
}

namespace {
Deferred sumFired(int n) {
  long long sum = 0;
  for (int i = 0; i < n; ++i) sum += (co_await deferred::succeed(i)).get<int>();
  co_return sum;
}

Deferred sumLater(std::vector<Deferred>* inputs) {
  long long sum = 0;
  for (Deferred& d : *inputs) sum += (co_await d).get<int>();
  co_return sum;
}
}  // namespace

// A million awaits in one coroutine, under the default stack: neither the
// fired case (no suspension) nor the later case (resumed from each firing)
// may grow the stack.
TEST(Coroutine, MillionAwaitsOfFiredDeferreds) {
  Deferred d = sumFired(1'000'000);
  EXPECT_EQ(d.result().get<long long>(), 499'999'500'000LL);
}

TEST(Coroutine, MillionAwaitsOfDeferredsFiredLater) {
  std::vector<Deferred> inputs(1'000'000);
  Deferred d = sumLater(&inputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i].callback(static_cast<int>(i));
  EXPECT_EQ(d.result().get<long long>(), 499'999'500'000LL);
}

namespace {
struct Probe {
  std::shared_ptr<int> alive = std::make_shared<int>(1);
};
// Takes the awaited Deferred by pointer: a frame holding it would be a cycle.
Deferred holdsProbe(Deferred* input, std::weak_ptr<int>* watch) {
  Probe probe;
  *watch = probe.alive;
  co_await *input;
  co_return Value();
}
}  // namespace

TEST(Coroutine, FrameDroppedWhileSuspendedIsDestroyed) {
  std::weak_ptr<int> watch;
  Deferred d;
  {
    Deferred input;
    d = holdsProbe(&input, &watch);
    EXPECT_FALSE(watch.expired());
  }  // the awaited Deferred goes, and the frame with it
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(d.called());
  EXPECT_NO_THROW(d.cancel());  // nothing left to cancel
}

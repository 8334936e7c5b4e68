// addTimeout and ManualClock (Twisted 22.4's addTimeout and task.Clock).
#include <deferred/timeout.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::ManualClock;
using deferred::TimeoutError;
using deferred::Value;
using deferred_test::Log;

TEST(ManualClock, RunsDueCallsInTimeOrderFifoForTies) {
  ManualClock clock;
  Log log;
  clock.callLater(2, [&] { log.push_back("b@2"); });
  clock.callLater(1, [&] { log.push_back("a@1"); });
  clock.callLater(2, [&] { log.push_back("c@2"); });
  clock.callLater(5, [&] { log.push_back("d@5"); });
  clock.advance(1.5);
  EXPECT_EQ(log, Log{"a@1"});
  clock.advance(0.5);  // exactly due
  EXPECT_EQ(log, (Log{"a@1", "b@2", "c@2"}));
  EXPECT_EQ(clock.pendingCalls(), 1u);
  EXPECT_DOUBLE_EQ(clock.seconds(), 2.0);
}

TEST(ManualClock, CancelledCallsDoNotRunAndCallsMayScheduleDueCalls) {
  ManualClock clock;
  Log log;
  auto call = clock.callLater(1, [&] { log.push_back("cancelled"); });
  EXPECT_TRUE(call->active());
  call->cancel();
  EXPECT_FALSE(call->active());
  call->cancel();  // no effect
  clock.callLater(1, [&] {
    log.push_back("first");
    clock.callLater(0, [&] { log.push_back("scheduled by first"); });
  });
  clock.advance(1);
  EXPECT_EQ(log, (Log{"first", "scheduled by first"}));
  EXPECT_EQ(clock.pendingCalls(), 0u);
}

TEST(AddTimeout, TimesOutWithTimeoutErrorForStepsAddedAfter) {
  ManualClock clock;
  Deferred d;
  Log log;
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<deferred::CancelledError>() ? "before: cancelled" : "before: other");
    return f;
  });
  deferred::addTimeout(d, 10, clock);
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<TimeoutError>() ? "after: timeout" : "after: other");
  });
  clock.advance(9.5);
  EXPECT_FALSE(d.called());
  clock.advance(0.5);
  EXPECT_EQ(log, (Log{"before: cancelled", "after: timeout"}));
}

TEST(AddTimeout, ResultFirstUnschedulesTheTimer) {
  ManualClock clock;
  Deferred d;
  deferred::addTimeout(d, 10, clock);
  EXPECT_EQ(clock.pendingCalls(), 1u);
  d.callback(1);
  EXPECT_EQ(clock.pendingCalls(), 0u);
  clock.advance(20);
  EXPECT_EQ(d.result().get<int>(), 1);
}

TEST(AddTimeout, OnTimeoutCancelReplacesTheResult) {
  ManualClock clock;
  Deferred d;
  double seen = 0;
  deferred::addTimeout(d, 3, clock, [&](Value result, double seconds) -> Value {
    seen = seconds;
    EXPECT_TRUE(result.get<Failure>().check<deferred::CancelledError>().has_value());
    return std::string("substitute");
  });
  clock.advance(3);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(d.result().get<std::string>(), "substitute");
}

TEST(AddTimeout, CancellerThatFiresKeepsItsResult) {
  ManualClock clock;
  Deferred d([](Deferred& self) { self.callback(std::string("from canceller")); });
  deferred::addTimeout(d, 1, clock);
  clock.advance(1);
  EXPECT_EQ(d.result().get<std::string>(), "from canceller");
}

TEST(AddTimeout, ClockDestroyedFirstReleasesTheDeferred) {
  Deferred d;
  {
    ManualClock clock;
    deferred::addTimeout(d, 1, clock);
  }
  EXPECT_FALSE(d.called());
  d.callback(1);  // the timer step must not touch the dead clock
  EXPECT_EQ(d.result().get<int>(), 1);
}

TEST(ManualClock, ExceptionFromACallPropagatesAndLaterCallsStayPending) {
  ManualClock clock;
  Log log;
  clock.callLater(1, [] { throw std::runtime_error("call failed"); });
  clock.callLater(1, [&] { log.push_back("second"); });
  EXPECT_THROW(clock.advance(1), std::runtime_error);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(clock.pendingCalls(), 1u);
  clock.advance(0);  // still due
  EXPECT_EQ(log, Log{"second"});
}

TEST(ManualClock, DestroyingTheClockDropsPendingCallsAndTheirCaptures) {
  auto probe = std::make_shared<int>(0);
  std::weak_ptr<int> watch = probe;
  std::shared_ptr<deferred::DelayedCall> call;
  {
    ManualClock clock;
    call = clock.callLater(1, [probe] {});
    probe.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(call->active());
  call->cancel();  // no effect, no clock
}

TEST(AddTimeout, TimeoutErrorIsItsOwnTypeAndTrappable) {
  ManualClock clock;
  Deferred d;
  deferred::addTimeout(d, 2.5, clock);
  clock.advance(2.5);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<TimeoutError>().has_value());
  EXPECT_FALSE(d.failure()->check<deferred::CancelledError>().has_value());
  EXPECT_TRUE(d.failure()->check<deferred::Error>().has_value());
  try {
    d.failure()->raise();
  } catch (const TimeoutError& e) {
    EXPECT_DOUBLE_EQ(e.seconds(), 2.5);
  } catch (...) {
    ADD_FAILURE() << "not a TimeoutError";
  }
  Log log;
  d.addErrback([&](const Failure& f) {
    f.trap<TimeoutError>();
    log.push_back("trapped");
  });
  EXPECT_EQ(log, Log{"trapped"});
  EXPECT_TRUE(d.result().isNull());
}

TEST(AddTimeout, CancelledBeforeTheDeadlineStaysCancelledError) {
  ManualClock clock;
  Deferred d;
  bool converted = false;
  deferred::addTimeout(d, 5, clock, [&](Value result, double) {
    converted = true;
    return result;
  });
  d.cancel();
  EXPECT_FALSE(converted);  // only called when the timeout fired
  EXPECT_EQ(clock.pendingCalls(), 0u);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<deferred::CancelledError>().has_value());
  d.addErrback([](const Failure&) {});
}

TEST(AddTimeout, OnAFiredDeferredUnschedulesAtOnce) {
  ManualClock clock;
  Deferred d = deferred::succeed(std::string("done"));
  deferred::addTimeout(d, 1, clock);
  EXPECT_EQ(clock.pendingCalls(), 0u);
  clock.advance(2);
  EXPECT_EQ(d.result().get<std::string>(), "done");
}

TEST(AddTimeout, CancellerFailingWithAnotherErrorKeepsThatError) {
  ManualClock clock;
  Deferred d([](Deferred& self) { self.errback(std::invalid_argument("aborted")); });
  deferred::addTimeout(d, 1, clock);
  clock.advance(1);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_TRUE(d.failure()->check<std::invalid_argument>().has_value());
  EXPECT_FALSE(d.failure()->check<TimeoutError>().has_value());
  d.addErrback([](const Failure&) {});
}

TEST(AddTimeout, OnTimeoutCancelThatThrowsFailsTheChain) {
  ManualClock clock;
  Deferred d;
  deferred::addTimeout(d, 1, clock, [](Value, double) -> Value {
    throw std::logic_error("custom timeout");
  });
  clock.advance(1);
  ASSERT_NE(d.failure(), nullptr);
  EXPECT_EQ(d.failure()->message(), "custom timeout");
  d.addErrback([](const Failure&) {});
}

TEST(AddTimeout, ShortestTimeoutWinsAndEveryTimerIsUnscheduled) {
  ManualClock clock;
  Deferred d;
  deferred::addTimeout(d, 10, clock);
  deferred::addTimeout(d, 5, clock);
  EXPECT_EQ(clock.pendingCalls(), 2u);
  clock.advance(5);
  EXPECT_EQ(clock.pendingCalls(), 0u);
  ASSERT_NE(d.failure(), nullptr);
  try {
    d.failure()->raise();
  } catch (const TimeoutError& e) {
    EXPECT_DOUBLE_EQ(e.seconds(), 5);
  } catch (...) {
    ADD_FAILURE() << "not a TimeoutError";
  }
  d.addErrback([](const Failure&) {});
}

TEST(AddTimeout, TimerFiringWhileThePausedChainHoldsAValueLeavesTheValue) {
  ManualClock clock;
  Deferred d;
  deferred::addTimeout(d, 3, clock);
  d.pause();
  d.callback(1);
  EXPECT_EQ(clock.pendingCalls(), 1u);  // the timer step has not run yet
  clock.advance(3);  // already called: cancel() does nothing, the value passes
  d.unpause();
  EXPECT_EQ(clock.pendingCalls(), 0u);
  EXPECT_EQ(d.result().get<int>(), 1);
}

// Found by the scenario fuzzer: a timer's function holds a Deferred whose
// release fires a list, whose own timer is cancelled while the clock goes.
TEST(ManualClockTest, ACallCancelledWhileTheClockIsDestroyedIsLeftAlone) {
  auto clock = std::make_unique<ManualClock>();
  std::shared_ptr<deferred::DelayedCall> second;
  struct CancelsOnDrop {
    std::shared_ptr<deferred::DelayedCall>* call;
    ~CancelsOnDrop() {
      if (*call) (*call)->cancel();
    }
  };
  auto holder = std::make_shared<CancelsOnDrop>(CancelsOnDrop{&second});
  bool ran = false;
  clock->callLater(1, [holder, &ran] { ran = true; });
  holder.reset();
  second = clock->callLater(2, [&ran] { ran = true; });
  clock.reset();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(second->active());
}

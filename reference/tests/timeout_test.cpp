// addTimeout and ManualClock (Twisted 22.4's addTimeout and task.Clock).
#include <deferred/timeout.h>
#include <gtest/gtest.h>

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

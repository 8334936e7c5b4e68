// Deferred::cancel(): cancellers, CancelledError, suppression of the late
// result, forwarding to the Deferred being waited on.
#include <deferred/deferred.h>
#include <deferred/list.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::AlreadyCalledError;
using deferred::CancelledError;
using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {
struct Cancel : deferred_test::RecordsUnhandled {};

auto recordFailure(Log& log) {
  return [&log](const Failure& f) {
    log.push_back(f.check<CancelledError>() ? "cancelled" : "failure " + f.toString());
  };
}
}  // namespace

TEST_F(Cancel, WithoutCancellerErrbacksCancelledError) {
  Log log;
  Deferred d;
  d.addCallbacks([&](Value) { log.push_back("callback"); }, recordFailure(log));
  d.cancel();
  EXPECT_EQ(log, (Log{"cancelled"}));
  EXPECT_TRUE(d.called());
}

TEST_F(Cancel, LateResultAfterCancelIsSwallowedOnce) {
  Log log;
  Deferred d;
  d.addErrback(recordFailure(log));
  d.cancel();
  EXPECT_NO_THROW(d.callback(1));  // the real operation finishing: ignored
  EXPECT_THROW(d.callback(2), AlreadyCalledError);
  EXPECT_EQ(log, (Log{"cancelled"}));
  EXPECT_TRUE(d.result().isNull());
}

TEST_F(Cancel, LateErrbackAfterCancelIsSwallowedToo) {
  Deferred d;
  d.addErrback([](const Failure&) {});
  d.cancel();
  EXPECT_NO_THROW(d.errback(std::runtime_error("late")));
  EXPECT_THROW(d.errback(std::runtime_error("later")), AlreadyCalledError);
}

TEST_F(Cancel, CancellerReceivesTheDeferred) {
  Log log;
  const Deferred* original = nullptr;
  bool same = false;
  Deferred d([&](Deferred& self) {
    log.push_back("canceller");
    same = self.sameAs(*original);  // the argument lives only during the call
  });
  original = &d;
  d.addErrback(recordFailure(log));
  d.cancel();
  EXPECT_TRUE(same);
  EXPECT_EQ(log, (Log{"canceller", "cancelled"}));
  // With a canceller there is no suppression of a late result.
  EXPECT_THROW(d.callback(1), AlreadyCalledError);
}

TEST_F(Cancel, CancellerThatFiresPreventsCancelledError) {
  Log log;
  Deferred d([&](Deferred& self) { self.errback(std::runtime_error("custom")); });
  d.addErrback(recordFailure(log));
  d.cancel();
  EXPECT_EQ(log, (Log{"failure std::runtime_error: custom"}));

  Log log2;
  Deferred e([](Deferred& self) { self.callback(std::string("fallback")); });
  e.addCallback([&](const std::string& s) { log2.push_back(s); });
  e.cancel();
  EXPECT_EQ(log2, (Log{"fallback"}));
}

TEST_F(Cancel, CancellerExceptionPropagates) {
  Deferred d([](Deferred&) { throw std::runtime_error("canceller broke"); });
  EXPECT_THROW(d.cancel(), std::runtime_error);
  EXPECT_FALSE(d.called());
}

TEST_F(Cancel, CancellingFiredDeferredDoesNothing) {
  Log log;
  int cancellerCalls = 0;
  Deferred d([&](Deferred&) { ++cancellerCalls; });
  d.callback(1);
  d.cancel();
  EXPECT_EQ(cancellerCalls, 0);
  EXPECT_EQ(d.result().get<int>(), 1);
  Deferred e;
  e.callback(2);
  e.cancel();
  EXPECT_NO_THROW(e.cancel());
  EXPECT_EQ(e.result().get<int>(), 2);
}

TEST_F(Cancel, WaitingDeferredForwardsCancelToInner) {
  Log log;
  Deferred inner([&](Deferred&) { log.push_back("inner canceller"); });
  Deferred outer([&](Deferred&) { log.push_back("outer canceller"); });
  outer.addCallback([&](Value) { return inner; })
      .addCallbacks([&](Value) { log.push_back("outer callback"); }, recordFailure(log));
  outer.callback();
  outer.cancel();
  EXPECT_EQ(log, (Log{"inner canceller", "cancelled"}));
  EXPECT_TRUE(inner.result().isNull());  // consumed by outer
}

TEST_F(Cancel, ForwardingGoesThroughSeveralLevels) {
  Log log;
  Deferred a;
  Deferred b;
  Deferred c([&](Deferred&) { log.push_back("c canceller"); });
  a.addCallback([&](Value) { return b; }).addErrback(recordFailure(log));
  b.addCallback([&](Value) { return c; });
  a.callback();
  b.callback();
  a.cancel();
  EXPECT_EQ(log, (Log{"c canceller", "cancelled"}));
}

TEST_F(Cancel, SecondCancelAfterCancellerFiredDoesNothing) {
  // Once the canceller has fired the Deferred, a second cancel() does nothing.
  Log log;
  int calls = 0;
  Deferred d([&](Deferred& self) {
    if (++calls == 1) self.errback(std::runtime_error("from canceller"));
  });
  d.addErrback(recordFailure(log));
  d.cancel();
  d.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(log, (Log{"failure std::runtime_error: from canceller"}));
}

TEST_F(Cancel, AMemberWaitingOnItsOwnListStopsTheCancelThatComesBack) {
  // Found by the scenario fuzzer (a stack overflow): d0 waits on a
  // gatherResults of itself, so cancelling d0 forwards to the list, which
  // cancels d0 again. Twisted recurses until RecursionError, which the list
  // logs; nothing is cancelled. Here the cancel that comes back stops.
  Deferred d0([](Deferred&) { throw std::runtime_error("canceller"); });
  Deferred list;
  d0.addErrback([&](const Failure&) {
    list = deferred::gatherResults({d0});
    return list;
  });
  d0.errback(std::runtime_error("x"));
  ASSERT_TRUE(d0.isWaiting());
  EXPECT_NO_THROW(d0.cancel());
  EXPECT_TRUE(d0.isWaiting());  // as in Twisted: nothing changed
  EXPECT_FALSE(list.called());
}

TEST_F(Cancel, ACancellerCancellingItsOwnDeferredDoesNotRecurse) {
  // Twisted recurses until RecursionError escapes cancel(); here the inner
  // cancel() stops, and the outer one goes on: no result, so CancelledError.
  int calls = 0;
  Deferred d([&](Deferred& self) {
    ++calls;
    self.cancel();
  });
  Log log;
  d.addErrback(recordFailure(log));
  d.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(log, (Log{"cancelled"}));
}

TEST_F(Cancel, ACancelForwardedAroundTwoDeferredsWaitingOnEachOtherStops) {
  // Found by the scenario fuzzer (it looped forever); Twisted recurses until
  // RecursionError. Each handler returns the other Deferred: a deadlock.
  Deferred a, b;
  b.addBoth([&a](Value) { return a; });
  a.callback(Value(1));
  a.addBoth([&b](Value) { return b; });
  b.callback(Value(2));
  ASSERT_TRUE(a.isWaiting());
  ASSERT_TRUE(b.isWaiting());
  EXPECT_NO_THROW(a.cancel());
  EXPECT_NO_THROW(b.cancel());
  EXPECT_TRUE(a.isWaiting());  // nothing changed
  EXPECT_TRUE(b.isWaiting());
}

TEST_F(Cancel, ACancelForwardedAlongAWaitingChainIntoACircleStops) {
  Deferred a, b, entry;
  b.addBoth([&a](Value) { return a; });
  a.callback(Value(1));
  a.addBoth([&b](Value) { return b; });
  b.callback(Value(2));
  entry.callback(Value(3));
  entry.addBoth([&a](Value) { return a; });  // entry waits on a, a on b, b on a
  ASSERT_TRUE(entry.isWaiting());
  EXPECT_NO_THROW(entry.cancel());
  EXPECT_TRUE(entry.isWaiting());
  EXPECT_TRUE(a.isWaiting());
}

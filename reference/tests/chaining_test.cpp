// Handlers returning Deferreds (Twisted's chaining) and chainDeferred.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {
struct Chaining : deferred_test::RecordsUnhandled {};
}  // namespace

TEST_F(Chaining, OuterWaitsOnUnfiredInner) {
  Log log;
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](int) { return inner; });
  outer.addCallback([&](const std::string& s) { log.push_back("outer got " + s); });
  outer.callback(1);
  EXPECT_TRUE(outer.called());
  EXPECT_TRUE(outer.isWaiting());
  EXPECT_FALSE(outer.hasResult());
  EXPECT_EQ(outer.paused(), 1);  // waiting counts as a pause
  ASSERT_TRUE(outer.waitingOn().has_value());
  EXPECT_TRUE(outer.waitingOn()->sameAs(inner));
  ASSERT_TRUE(outer.chainedTo().has_value());
  EXPECT_TRUE(outer.chainedTo()->sameAs(inner));
  EXPECT_EQ(inner.pendingSteps(), 1u);  // the continuation

  // Handlers added to the waiting outer wait too.
  outer.addCallback([&](Value) { log.push_back("added while waiting"); });
  EXPECT_TRUE(log.empty());

  inner.callback(std::string("inner result"));
  EXPECT_EQ(log, (Log{"outer got inner result", "added while waiting"}));
  EXPECT_FALSE(outer.isWaiting());
  EXPECT_EQ(outer.paused(), 0);
  EXPECT_FALSE(outer.chainedTo().has_value());
  EXPECT_TRUE(inner.hasResult());
  EXPECT_TRUE(inner.result().isNull());  // consumed
}

TEST_F(Chaining, AlreadyFiredInnerResultIsTakenImmediately) {
  Log log;
  Deferred inner = deferred::succeed(7);
  Deferred outer;
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](int x) { log.push_back("got " + std::to_string(x)); });
  outer.callback();
  EXPECT_EQ(log, (Log{"got 7"}));
  EXPECT_TRUE(inner.result().isNull());
  EXPECT_EQ(inner.pendingSteps(), 0u);
}

TEST_F(Chaining, InnerFailureContinuesOnOuterErrorPath) {
  Log log;
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](Value) { log.push_back("skipped"); })
      .addErrback([&](const Failure& f) { log.push_back("outer eb " + f.message()); });
  outer.callback();
  inner.errback(std::runtime_error("inner broke"));
  EXPECT_EQ(log, (Log{"outer eb inner broke"}));
  EXPECT_FALSE(inner.isFailure());  // consumed: no unhandled error in inner
}

TEST_F(Chaining, ErrbackReturningDeferredRecovers) {
  Log log;
  Deferred outer;
  Deferred inner;
  outer.addErrback([&](const Failure&) { return inner; })
      .addCallback([&](int x) { log.push_back("recovered " + std::to_string(x)); });
  outer.errback(std::runtime_error("x"));
  EXPECT_TRUE(outer.isWaiting());
  inner.callback(3);
  EXPECT_EQ(log, (Log{"recovered 3"}));
}

TEST_F(Chaining, InnerCallbacksRunBeforeOuterContinues) {
  Log log;
  Deferred outer;
  Deferred inner;
  inner.addCallback([&](int x) { log.push_back("inner cb1"); return x + 1; });
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](int x) { log.push_back("outer " + std::to_string(x)); });
  outer.callback();
  inner.callback(1);
  // Callbacks added to inner after the continuation see null.
  inner.addCallback([&](const Value& v) { log.push_back("inner late " + v.typeName()); });
  EXPECT_EQ(log, (Log{"inner cb1", "outer 2", "inner late null"}));
}

TEST_F(Chaining, PausedInnerKeepsOuterWaiting) {
  Log log;
  Deferred inner;
  inner.pause();
  inner.callback(5);  // has a result, but paused
  Deferred outer;
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](int x) { log.push_back("outer " + std::to_string(x)); });
  outer.callback();
  EXPECT_TRUE(outer.isWaiting());
  EXPECT_TRUE(log.empty());
  inner.unpause();
  EXPECT_EQ(log, (Log{"outer 5"}));
}

TEST_F(Chaining, PausedOuterHoldsResultOfInner) {
  Log log;
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](int x) { log.push_back("outer " + std::to_string(x)); });
  outer.callback();
  outer.pause();
  inner.callback(4);
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(outer.hasResult());
  EXPECT_EQ(outer.result().get<int>(), 4);
  EXPECT_TRUE(inner.result().isNull());
  outer.unpause();
  EXPECT_EQ(log, (Log{"outer 4"}));
}

TEST_F(Chaining, ThreeLevelsResolveInnermostFirst) {
  Log log;
  Deferred a;
  Deferred b;
  Deferred c;
  a.addCallback([&](Value) { log.push_back("a1"); return b; })
      .addCallback([&](int x) { log.push_back("a2 " + std::to_string(x)); });
  b.addCallback([&](Value) { log.push_back("b1"); return c; })
      .addCallback([&](int x) { log.push_back("b2 " + std::to_string(x)); return x * 10; });
  a.callback();
  b.callback();
  EXPECT_TRUE(a.isWaiting());
  EXPECT_TRUE(b.isWaiting());
  c.callback(2);
  EXPECT_EQ(log, (Log{"a1", "b1", "b2 2", "a2 20"}));
}

TEST_F(Chaining, ReturningOwnDeferredIsSelfChainError) {
  Log log;
  Deferred d;
  d.addCallback([&](Value) { return d; })
      .addErrback([&](const Failure& f) {
        log.push_back(f.check<deferred::SelfChainError>() ? "self chain" : f.toString());
        EXPECT_TRUE(f.check<deferred::Error>().has_value());
      });
  d.callback();
  EXPECT_EQ(log, (Log{"self chain"}));
  EXPECT_FALSE(d.isWaiting());
}

TEST_F(Chaining, HandlerReturningValueHoldingDeferredChains) {
  Log log;
  Deferred inner;
  Deferred outer;
  outer.addCallback([&](Value) { return Value(inner); })
      .addCallback([&](int x) { log.push_back(std::to_string(x)); });
  outer.callback();
  EXPECT_TRUE(outer.isWaiting());
  inner.callback(8);
  EXPECT_EQ(log, (Log{"8"}));
}

TEST_F(Chaining, ChainDeferredRecordsChainedToUntilFired) {
  Deferred a;
  Deferred b;
  a.chainDeferred(b);
  ASSERT_TRUE(b.chainedTo().has_value());
  EXPECT_TRUE(b.chainedTo()->sameAs(a));
  EXPECT_FALSE(b.isWaiting());  // only a marker, not a wait
  a.callback(3);
  EXPECT_FALSE(b.chainedTo().has_value());
  EXPECT_EQ(b.result().get<int>(), 3);
  EXPECT_TRUE(a.result().isNull());
}

TEST_F(Chaining, ChainDeferredToAlreadyFiredTargetFailsTheSource) {
  Log log;
  Deferred a;
  Deferred b = deferred::succeed(1);
  a.chainDeferred(b);
  a.addErrback([&](const Failure& f) {
    log.push_back(f.check<deferred::AlreadyCalledError>() ? "already called" : "other");
  });
  a.callback(2);
  EXPECT_EQ(log, (Log{"already called"}));
  EXPECT_EQ(b.result().get<int>(), 1);
}

TEST_F(Chaining, InnerFiredFromWithinAnotherHandler) {
  Log log;
  Deferred outer;
  Deferred inner;
  Deferred trigger;
  outer.addCallback([&](Value) { return inner; })
      .addCallback([&](int x) { log.push_back("outer " + std::to_string(x)); return x; });
  trigger.addCallback([&](int x) {
    log.push_back("trigger");
    inner.callback(x);
    log.push_back("trigger done");
  });
  outer.callback();
  trigger.callback(6);
  EXPECT_EQ(log, (Log{"trigger", "outer 6", "trigger done"}));
}

// A handler of `inner` fires `outer`, whose handler returns `inner`: outer
// takes the result inner's running handler received (Twisted 22.4 gives
// outer that object; spec case chaining.inner-running-handler).
TEST_F(Chaining, OuterTakesResultOfInnerWhoseHandlerIsRunning) {
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; });
  inner.callback(1);
  inner.addCallback([&](const Value& v) {
    outer.callback(Value());
    EXPECT_EQ(v.get<int>(), 1);  // the handler's own argument is intact
    return std::string("from inner's handler");
  });
  ASSERT_TRUE(outer.hasResult());
  EXPECT_EQ(outer.result().get<int>(), 1);
  EXPECT_EQ(inner.result().get<std::string>(), "from inner's handler");
}

TEST_F(Chaining, RunningTypedHandlerResultIsCopiedNotMoved) {
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; });
  inner.callback(std::string("payload"));
  inner.addCallback([&](const std::string& s) {
    outer.callback(Value());
    EXPECT_EQ(s, "payload");
  });
  EXPECT_EQ(outer.result().get<std::string>(), "payload");
}

TEST_F(Chaining, RunningErrbackFailureIsShared) {
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; });
  inner.errback(std::runtime_error("boom"));
  inner.addErrback([&](const Failure&) { outer.callback(Value()); });
  ASSERT_NE(outer.failure(), nullptr);
  EXPECT_TRUE(outer.failure()->check<std::runtime_error>().has_value());
  EXPECT_TRUE(inner.hasResult());
  EXPECT_FALSE(inner.isFailure());
}

TEST_F(Chaining, RunningByValueHandlerOwnsItsArgument) {
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; });
  inner.callback(1);
  inner.addCallback([&](int) { outer.callback(Value()); });
  ASSERT_NE(outer.failure(), nullptr);
  EXPECT_TRUE(outer.failure()->check<deferred::TypeMismatchError>().has_value());
}

namespace {
// A result whose copy throws: the outer chain gets what the copy threw.
struct ThrowsWhenCopied {
  ThrowsWhenCopied() = default;
  ThrowsWhenCopied(const ThrowsWhenCopied&) { throw 42; }
  ThrowsWhenCopied(ThrowsWhenCopied&&) noexcept = default;
};
}  // namespace

TEST_F(Chaining, RunningHandlerResultWhoseCopyThrowsFailsTheOuterChain) {
  Deferred outer;
  Deferred inner;
  outer.addCallback([&](Value) { return inner; });
  inner.callback(ThrowsWhenCopied{});
  inner.addCallback([&](const Value& v) {
    outer.callback(Value());
    EXPECT_TRUE(v.is<ThrowsWhenCopied>());  // the handler's argument is intact
  });
  ASSERT_NE(outer.failure(), nullptr);
  EXPECT_EQ(outer.failure()->toString(), "int: 42");
  outer.addErrback([](const Failure&) {});
}

// Twisted: d.chainDeferred(d) then d.errback(f): the step's d.errback(f)
// raises AlreadyCalledError, which becomes d's result.
TEST_F(Chaining, ADeferredChainedToItselfGetsAlreadyCalledErrorOnTheErrorPath) {
  Log log;
  Deferred d;
  d.chainDeferred(d);
  d.addBoth([&](const Failure& f) {
    log.push_back(f.check<deferred::AlreadyCalledError>() ? "AlreadyCalledError" : f.toString());
  });
  d.errback(std::runtime_error("boom"));
  EXPECT_EQ(log, (Log{"AlreadyCalledError"}));
}

// Core semantics of Deferred: firing, result propagation between the success
// and error paths, handler signatures, re-entrancy and pausing.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::AlreadyCalledError;
using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {
struct Quiet : deferred_test::RecordsUnhandled {};
using Core = Quiet;
}  // namespace

TEST_F(Core, CallbacksRunInOrderEachGettingPreviousResult) {
  Log log;
  Deferred d;
  d.addCallback([&](int x) { log.push_back("a" + std::to_string(x)); return x * 3; });
  d.addCallback([&](int x) { log.push_back("b" + std::to_string(x)); return "r"; });
  d.addCallback([&](const std::string& s) { log.push_back("c" + s); });
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(d.called());
  d.callback(2);
  EXPECT_EQ(log, (Log{"a2", "b6", "cr"}));
  EXPECT_TRUE(d.called());
  EXPECT_TRUE(d.hasResult());
  EXPECT_TRUE(d.result().isNull());  // the last callback returned nothing
}

TEST_F(Core, AddCallbackReturnsSameDeferred) {
  Deferred d;
  Deferred& r = d.addCallback([](Value v) { return v; });
  EXPECT_EQ(&r, &d);
  EXPECT_EQ(&d.addErrback([](Failure f) { return f; }), &d);
  EXPECT_EQ(&d.addBoth([](Value v) { return v; }), &d);
  EXPECT_EQ(&d.addCallbacks(deferred::passthru, deferred::passthru), &d);
  EXPECT_EQ(d.pendingSteps(), 4u);
  d.errback(std::runtime_error("x"));  // through the errback and addBoth's handler
  EXPECT_EQ(d.pendingSteps(), 0u);
  ASSERT_TRUE(d.isFailure());
  EXPECT_EQ(d.failure()->message(), "x");
  d.addErrback([](const Failure&) {});
}

TEST_F(Core, HandlerAddedAfterFiringRunsImmediately) {
  Log log;
  Deferred d;
  d.callback(5);
  EXPECT_EQ(d.result().get<int>(), 5);
  d.addCallback([&](int x) { log.push_back("late " + std::to_string(x)); return x + 1; });
  EXPECT_EQ(log, (Log{"late 5"}));
  EXPECT_EQ(d.result().get<int>(), 6);
  EXPECT_EQ(d.pendingSteps(), 0u);
}

TEST_F(Core, SecondFiringThrowsAlreadyCalled) {
  Deferred d;
  d.callback(1);
  EXPECT_THROW(d.callback(2), AlreadyCalledError);
  EXPECT_THROW(d.errback(std::runtime_error("x")), AlreadyCalledError);
  EXPECT_EQ(d.result().get<int>(), 1);
  Deferred e;
  e.errback(std::runtime_error("first"));
  EXPECT_THROW(e.callback(1), AlreadyCalledError);
  e.addErrback([](const Failure&) {});
}

TEST_F(Core, AlreadyCalledErrorIsALibraryError) {
  Deferred d;
  d.callback();
  try {
    d.callback();
  } catch (const deferred::Error& e) {
    SUCCEED();
    return;
  }
  FAIL();
}

TEST_F(Core, CallbackWithFailureBehavesLikeErrback) {
  Log log;
  Deferred d;
  Failure f(std::runtime_error("via callback"));
  d.addCallbacks([&](Value) { log.push_back("callback"); },
                 [&](const Failure& got) {
                   log.push_back("errback " + got.message());
                   EXPECT_TRUE(got.sameAs(f));
                 });
  d.callback(f);
  EXPECT_EQ(log, (Log{"errback via callback"}));
}

TEST_F(Core, CallbackWithDeferredIsMisuse) {
  Deferred d;
  Deferred other;
  EXPECT_THROW(d.callback(other), deferred::NestedDeferredError);
  EXPECT_FALSE(d.called());
  d.callback(1);  // still usable
  EXPECT_EQ(d.result().get<int>(), 1);
}

TEST_F(Core, ErrbackSkipsCallbacksUntilAnErrback) {
  Log log;
  Deferred d;
  d.addCallback([&](Value) { log.push_back("cb1"); })
      .addCallback([&](Value) { log.push_back("cb2"); })
      .addErrback([&](const Failure& f) { log.push_back("eb " + f.toString()); return 10; })
      .addCallback([&](int x) { log.push_back("cb3 " + std::to_string(x)); });
  d.errback(std::logic_error("nope"));
  EXPECT_EQ(log, (Log{"eb std::logic_error: nope", "cb3 10"}));
  EXPECT_FALSE(d.isFailure());
}

TEST_F(Core, ThrowingCallbackMovesToErrorPath) {
  Log log;
  Deferred d;
  d.addCallback([&](int) -> int { throw std::domain_error("bad"); })
      .addCallback([&](Value) { log.push_back("skipped"); })
      .addErrback([&](const Failure& f) {
        log.push_back(f.typeName() + "|" + f.message());
        return f;  // stays on the error path
      });
  d.callback(1);
  EXPECT_EQ(log, (Log{"std::domain_error|bad"}));
  ASSERT_TRUE(d.isFailure());
  EXPECT_EQ(d.failure()->message(), "bad");
  d.addErrback([](const Failure&) {});
}

TEST_F(Core, CallbackReturningFailureMovesToErrorPath) {
  Log log;
  Deferred d;
  d.addCallback([](int x) -> Failure {
     return deferred::makeFailure(std::out_of_range(std::to_string(x)));
   })
      .addCallback([&](Value) { log.push_back("skipped"); })
      .addErrback([&](const Failure& f) {
        log.push_back("eb " + f.message());
        return "back";
      })
      .addCallback([&](std::string s) { log.push_back("cb " + s); });
  d.callback(3);
  EXPECT_EQ(log, (Log{"eb 3", "cb back"}));
}

TEST_F(Core, ErrbackReturningNothingRecoversWithNull) {
  Log log;
  Deferred d;
  d.addErrback([&](const Failure&) { log.push_back("eb"); })
      .addCallback([&](const Value& v) { log.push_back("cb " + v.typeName()); });
  d.errback(std::runtime_error("x"));
  EXPECT_EQ(log, (Log{"eb", "cb null"}));
}

TEST_F(Core, ErrbackThatThrowsStaysOnErrorPath) {
  Log log;
  Deferred d;
  d.addErrback([&](const Failure&) -> int { throw std::invalid_argument("second"); })
      .addCallback([&](Value) { log.push_back("skipped"); })
      .addErrback([&](const Failure& f) { log.push_back("eb " + f.toString()); });
  d.errback(std::runtime_error("first"));
  EXPECT_EQ(log, (Log{"eb std::invalid_argument: second"}));
}

TEST_F(Core, ThrowFortyTwoBecomesFailure) {
  Log log;
  Deferred d;
  d.addCallback([](Value) { throw 42; });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.typeName() + ":" + f.message());
    EXPECT_EQ(f.check<int>(), 0u);
  });
  EXPECT_NO_THROW(d.callback());
  EXPECT_EQ(log, (Log{"int:42"}));
}

TEST_F(Core, TypeMismatchBecomesFailureNamingTypes) {
  Log log;
  Deferred d;
  d.addCallback([&](int) { log.push_back("not run"); });
  d.addErrback([&](const Failure& f) {
    EXPECT_TRUE(f.check<deferred::TypeMismatchError>().has_value());
    log.push_back(f.message());
  });
  d.callback(std::string("s"));
  EXPECT_EQ(log, (Log{"handler expected int but the result is std::string"}));
}

TEST_F(Core, TypedCallbackOnErrorPathNamesTheFailure) {
  Log log;
  Deferred d;
  d.addBoth([&](int) { log.push_back("not run"); });
  d.addErrback([&](const Failure& f) { log.push_back(f.message()); });
  d.errback(std::runtime_error("orig"));
  EXPECT_EQ(log, (Log{"handler expected int but the result is deferred::Failure "
                      "(std::runtime_error: orig)"}));
}

TEST_F(Core, FailureParameterOnTheValuePathIsATypeMismatch) {
  Log log;
  Deferred d;
  d.addCallback([&](const Failure&) { log.push_back("callback: not run"); });
  d.addErrback([&](const Failure& f) { log.push_back(f.message()); return 1; });
  d.addBoth([&](Failure) { log.push_back("both: not run"); });
  d.addErrback([&](const Failure& f) { log.push_back(f.message()); });
  d.addBoth([&](const Failure& f) { log.push_back("both: " + f.message()); });
  d.callback(7);
  EXPECT_EQ(log, (Log{"handler expected deferred::Failure but the result is int",
                      "handler expected deferred::Failure but the result is int"}));
  // The last handler saw the null its predecessor returned, as a mismatch.
  ASSERT_TRUE(d.isFailure());
  EXPECT_EQ(d.failure()->message(), "handler expected deferred::Failure but the result is null");
  d.addErrback([](const Failure&) {});
}

TEST_F(Core, ErrbackTypedForAValueIsATypeMismatchNamingTheFailure) {
  Log log;
  Deferred d;
  d.addErrback([&](int) { log.push_back("not run"); });
  d.addErrback([&](const Failure& f) { log.push_back(f.message()); });
  d.errback(std::runtime_error("orig"));
  EXPECT_EQ(log, (Log{"handler expected int but the result is deferred::Failure "
                      "(std::runtime_error: orig)"}));
}

namespace {
// Steps whose handlers take a Value, logging what they see; the same
// handlers on every Deferred this is given.
void addValueSteps(Deferred& d, Log& log) {
  d.addCallbacks([&](Value v) { log.push_back("callback " + v.typeName()); return v; },
                 [&](Value v) { log.push_back("errback " + v.typeName()); return v; });
  d.addBoth([&](Value v) { log.push_back("both " + v.typeName()); return v; });
}
}  // namespace

TEST_F(Core, ValueParameterOfEachHalfSeesItsPath) {
  Log log;
  Deferred succeeding;
  addValueSteps(succeeding, log);
  succeeding.callback(1);
  EXPECT_EQ(log, (Log{"callback int", "both int"}));
  EXPECT_EQ(succeeding.result().get<int>(), 1);
  log.clear();
  Deferred failing;
  addValueSteps(failing, log);
  failing.errback(std::runtime_error("x"));
  // A Value holding the Failure, returned: still on the error path.
  EXPECT_EQ(log, (Log{"errback deferred::Failure", "both deferred::Failure"}));
  ASSERT_TRUE(failing.isFailure());
  EXPECT_EQ(failing.failure()->message(), "x");
  failing.addErrback([](const Failure&) {});
}

TEST_F(Core, TypedBothHandlerOnTheValuePath) {
  Log log;
  Deferred d;
  d.addBoth([&](int x) { log.push_back("both " + std::to_string(x)); return x + 1; });
  d.callback(1);
  EXPECT_EQ(log, (Log{"both 1"}));
  EXPECT_EQ(d.result().get<int>(), 2);
}

TEST_F(Core, InspectingADeferredWithoutAResult) {
  Deferred d;
  EXPECT_FALSE(d.called());
  EXPECT_FALSE(d.hasResult());
  EXPECT_FALSE(d.isFailure());
  EXPECT_EQ(d.failure(), nullptr);
  EXPECT_TRUE(d.result().isNull());
  EXPECT_FALSE(d.waitingOn().has_value());
  EXPECT_FALSE(d.chainedTo().has_value());
  d.callback(1);
  EXPECT_FALSE(d.waitingOn().has_value());  // a result, not a wait
}

TEST_F(Core, ChainedToIsEmptyOnceThatDeferredIsGone) {
  Deferred b;
  {
    Deferred a;
    a.chainDeferred(b);
    ASSERT_TRUE(b.chainedTo().has_value());
  }
  EXPECT_FALSE(b.chainedTo().has_value());  // not owning
  EXPECT_FALSE(b.called());
}

TEST_F(Core, AMovedFromHandleCanBeAssignedToAndUsed) {
  Deferred a;
  Deferred taken = std::move(a);
  EXPECT_EQ(a.id(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from
  a = taken;                   // copy-assigned
  EXPECT_TRUE(a.sameAs(taken));
  Deferred b;
  Deferred alsoTaken = std::move(b);
  b = Deferred();  // move-assigned
  b.callback(1);
  EXPECT_EQ(b.result().get<int>(), 1);
  Deferred& same = a;
  a = std::move(same);  // self-move: unchanged
  a.callback(2);
  EXPECT_EQ(taken.result().get<int>(), 2);
}

TEST_F(Core, ParameterKinds) {
  Log log;
  Deferred d;
  d.addCallback([&](const int& x) { log.push_back("cref " + std::to_string(x)); return std::string("s"); })
      .addCallback([&](std::string&& s) { log.push_back("rref " + s); return std::move(s) + "t"; })
      .addCallback([&](Value&& v) { log.push_back("value " + v.get<std::string>()); return std::move(v); })
      .addCallback([&](const Value& v) { log.push_back("cvalue " + v.typeName()); return 1; })
      .addCallback([&](auto v) { log.push_back("generic " + v.typeName()); return 2; })
      .addCallback([&] { log.push_back("no parameter"); return 3; })
      .addCallback([&](int& x) { x += 1; return x; });
  d.callback(0);
  EXPECT_EQ(log, (Log{"cref 0", "rref s", "value st", "cvalue std::string",
                      "generic int", "no parameter"}));
  EXPECT_EQ(d.result().get<int>(), 4);
}

namespace {
int plainFunction(int x, int extra) { return x * 10 + extra; }
}  // namespace

TEST_F(Core, ExtraArgumentsFollowTheResult) {
  Log log;
  Deferred d;
  d.addCallback(&plainFunction, 7)
      .addCallback([&](int x, const std::string& tag, int n) {
        log.push_back(tag + std::to_string(x) + "/" + std::to_string(n));
      }, "tag", 5)
      .addErrback([&](const Failure&, std::string tag) { log.push_back(tag); }, "unused");
  d.callback(4);
  EXPECT_EQ(log, (Log{"tag47/5"}));
}

TEST_F(Core, AddCallbacksWithSeparateExtraArguments) {
  Log log;
  auto onValue = [&](int x, const std::string& a) { log.push_back("cb " + std::to_string(x) + a); };
  auto onError = [&](const Failure& f, const std::string& b, int n) {
    log.push_back("eb " + f.message() + b + std::to_string(n));
  };
  Deferred ok;
  ok.addCallbacks(deferred::withArgs(onValue, "A"), deferred::withArgs(onError, "B", 1));
  ok.callback(1);
  Deferred bad;
  bad.addCallbacks(deferred::withArgs(onValue, "A"), deferred::withArgs(onError, "B", 2));
  bad.errback(std::runtime_error("e"));
  EXPECT_EQ(log, (Log{"cb 1A", "eb eB2"}));
}

TEST_F(Core, AddBothSeesValueOrFailure) {
  Log log;
  auto both = [&](Value v) {
    log.push_back(v.is<Failure>() ? "failure " + v.get<Failure>().message()
                                  : "value " + v.typeName());
    return v;  // passes either on unchanged
  };
  Deferred ok;
  ok.addBoth(both);
  ok.callback(1);
  Deferred bad;
  bad.addBoth(both);
  bad.errback(std::runtime_error("boom"));
  EXPECT_EQ(log, (Log{"value int", "failure boom"}));
  EXPECT_EQ(ok.result().get<int>(), 1);
  EXPECT_TRUE(bad.isFailure());
  bad.addErrback([](const Failure&) {});
}

TEST_F(Core, AddBothWithExtraArguments) {
  Log log;
  Deferred d;
  d.addBoth([&](Value, int a, int b) { log.push_back(std::to_string(a + b)); }, 2, 3);
  d.errback(std::runtime_error("x"));
  EXPECT_EQ(log, (Log{"5"}));
  EXPECT_FALSE(d.isFailure());  // the handler returned nothing: recovered
}

TEST_F(Core, HandlersAddedDuringRunRunInSamePassWithoutRecursion) {
  Log log;
  Deferred d;
  int depth = 0;
  d.addCallback([&](int x) {
    ++depth;
    log.push_back("first depth " + std::to_string(depth));
    d.addCallback([&](int y) {
      ++depth;
      log.push_back("added depth " + std::to_string(depth) + " got " + std::to_string(y));
      --depth;
      return y + 100;
    });
    log.push_back("first returns");
    --depth;
    return x + 1;
  });
  d.addCallback([&](int x) { log.push_back("second got " + std::to_string(x)); return x + 10; });
  d.callback(0);
  // The nested addCallback did not run the new step inside the first
  // handler; it ran after the steps already queued, in the same pass.
  EXPECT_EQ(log, (Log{"first depth 1", "first returns", "second got 1",
                      "added depth 1 got 11"}));
  EXPECT_EQ(d.result().get<int>(), 111);
}

TEST_F(Core, MoveOnlyValuesFlowThroughChain) {
  Deferred d;
  int seen = 0;
  d.addCallback([](std::unique_ptr<int> p) { *p += 1; return p; })
      .addCallback([](std::unique_ptr<int>&& p) { return std::make_unique<std::string>(std::to_string(*p)); })
      .addCallback([&](const std::unique_ptr<std::string>& s) { seen = std::stoi(*s); });
  d.callback(std::make_unique<int>(41));
  EXPECT_EQ(seen, 42);
}

TEST_F(Core, MoveOnlyHandlersAndExtraArguments) {
  Log log;
  auto owned = std::make_unique<int>(3);
  Deferred d;
  d.addCallback([p = std::move(owned)](int x) { return x + *p; });
  d.addCallback([&](int x, const std::unique_ptr<int>& extra) { log.push_back(std::to_string(x + *extra)); },
                std::make_unique<int>(100));
  d.callback(1);
  EXPECT_EQ(log, (Log{"104"}));
}

TEST_F(Core, HandlersAreReleasedOnceRun) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  Deferred d;
  d.addCallback([t = std::move(token)](Value) {});
  EXPECT_FALSE(watch.expired());
  d.callback();
  EXPECT_TRUE(watch.expired());  // the capture died with its step
}

TEST_F(Core, PauseDelaysHandlersAndNests) {
  Log log;
  Deferred d;
  d.addCallback([&](int x) { log.push_back("cb " + std::to_string(x)); return x; });
  d.pause();
  d.pause();
  EXPECT_EQ(d.paused(), 2);
  d.callback(1);
  EXPECT_TRUE(log.empty());
  d.addCallback([&](int x) { log.push_back("cb2 " + std::to_string(x)); });
  d.unpause();
  EXPECT_TRUE(log.empty());
  d.unpause();
  EXPECT_EQ(log, (Log{"cb 1", "cb2 1"}));
  EXPECT_EQ(d.paused(), 0);
}

TEST_F(Core, UnpauseBeforeFiringRunsNothing) {
  Log log;
  Deferred d;
  d.pause();
  d.addCallback([&](Value) { log.push_back("cb"); });
  d.unpause();
  EXPECT_TRUE(log.empty());
  d.callback();
  EXPECT_EQ(log, (Log{"cb"}));
}

TEST_F(Core, PauseInsideHandlerTakesEffectAfterThePass) {
  // Twisted does not check the pause counter between steps of one pass.
  Log log;
  Deferred d;
  d.addCallback([&](int x) { d.pause(); log.push_back("a"); return x; });
  d.addCallback([&](int x) { log.push_back("b"); return x; });
  d.callback(1);
  EXPECT_EQ(log, (Log{"a", "b"}));
  EXPECT_EQ(d.paused(), 1);
  d.addCallback([&](Value) { log.push_back("c"); });
  EXPECT_EQ(log, (Log{"a", "b"}));
  d.unpause();
  EXPECT_EQ(log, (Log{"a", "b", "c"}));
}

TEST_F(Core, UnpauseBelowZeroBlocksLikeTwisted) {
  Log log;
  Deferred d;
  d.unpause();  // counter -1: non-zero, so handlers do not run
  d.addCallback([&](Value) { log.push_back("cb"); });
  d.callback();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(d.paused(), -1);
}

TEST_F(Core, SucceedAndFail) {
  Deferred s = deferred::succeed(std::string("ok"));
  EXPECT_EQ(s.result().get<std::string>(), "ok");
  Deferred n = deferred::succeed();
  EXPECT_TRUE(n.hasResult());
  EXPECT_TRUE(n.result().isNull());
  Deferred f = deferred::fail(std::runtime_error("bad"));
  ASSERT_TRUE(f.isFailure());
  EXPECT_EQ(f.failure()->message(), "bad");
  f.addErrback([](const Failure&) {});
}

TEST_F(Core, MaybeDeferred) {
  Deferred value = deferred::maybeDeferred([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(value.result().get<int>(), 5);

  Deferred nothing = deferred::maybeDeferred([] {});
  EXPECT_TRUE(nothing.hasResult());
  EXPECT_TRUE(nothing.result().isNull());

  Deferred thrown = deferred::maybeDeferred([]() -> int { throw std::runtime_error("t"); });
  ASSERT_TRUE(thrown.isFailure());
  EXPECT_EQ(thrown.failure()->message(), "t");
  thrown.addErrback([](const Failure&) {});

  Deferred failed = deferred::maybeDeferred([] { return Failure(std::logic_error("f")); });
  ASSERT_TRUE(failed.isFailure());
  EXPECT_EQ(failed.failure()->typeName(), "std::logic_error");
  failed.addErrback([](const Failure&) {});

  Deferred pending;
  Deferred same = deferred::maybeDeferred([&] { return pending; });
  EXPECT_TRUE(same.sameAs(pending));
  EXPECT_FALSE(same.called());
}

TEST_F(Core, MaybeDeferredOfAFunctionThrowingAFailureOrANonException) {
  Failure original(std::logic_error("trapped"));
  Deferred rethrown = deferred::maybeDeferred([&]() -> int { throw original; });
  ASSERT_TRUE(rethrown.isFailure());
  EXPECT_TRUE(rethrown.failure()->sameAs(original));  // that very Failure
  rethrown.addErrback([](const Failure&) {});

  Deferred number = deferred::maybeDeferred([] { throw 42; });
  ASSERT_TRUE(number.isFailure());
  EXPECT_EQ(number.failure()->toString(), "int: 42");
  number.addErrback([](const Failure&) {});
}

TEST_F(Core, ErrbackWithoutArgumentsUsesCurrentException) {
  Deferred d;
  try {
    throw std::runtime_error("current");
  } catch (...) {
    d.errback();
  }
  ASSERT_TRUE(d.isFailure());
  EXPECT_EQ(d.failure()->message(), "current");
  d.addErrback([](const Failure&) {});
  Deferred e;
  EXPECT_THROW(e.errback(), deferred::NoCurrentExceptionError);
  EXPECT_FALSE(e.called());
}

TEST_F(Core, ErrorPathDoesNotThrowInternally) {
  // A failure passes through pass-through steps and an errback that returns
  // it without any C++ exception being thrown (checked by counting catches
  // would need hooks; here we check identity is preserved along the way).
  Deferred d;
  Failure original(std::runtime_error("same"));
  const Failure* seen = nullptr;
  Failure copy = original;
  d.addCallback([](Value v) { return v; })
      .addErrback([](Failure f) { return f; })
      .addCallback([](int x) { return x; })
      .addErrback([&](const Failure& f) {
        EXPECT_TRUE(f.sameAs(original));
        seen = &f;
        return f;
      });
  d.errback(copy);
  EXPECT_NE(seen, nullptr);
  ASSERT_TRUE(d.isFailure());
  EXPECT_TRUE(d.failure()->sameAs(original));
  d.addErrback([](const Failure&) {});
}

TEST_F(Core, TrapInErrbackPassesUnmatchedFailureOnUnchanged) {
  Log log;
  Failure original(std::runtime_error("not trapped"));
  Deferred d;
  d.addErrback([&](const Failure& f) {
     f.trap<std::logic_error>();
     log.push_back("trapped?!");
   })
      .addErrback([&](const Failure& f) {
        log.push_back(f.sameAs(original) ? "same failure" : "different failure");
      });
  d.errback(original);
  EXPECT_EQ(log, (Log{"same failure"}));
}

TEST_F(Core, CallbackFromInsideOwnHandlerIsAlreadyCalled) {
  Log log;
  Deferred d;
  d.addCallback([&](Value) { d.callback(2); });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<AlreadyCalledError>() ? "already called" : f.toString());
  });
  d.callback(1);
  EXPECT_EQ(log, (Log{"already called"}));
}

TEST_F(Core, CopiesAreTheSameDeferred) {
  Deferred a;
  Deferred b = a;
  Deferred c;
  EXPECT_TRUE(a.sameAs(b));
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  EXPECT_EQ(a.id(), b.id());
  b.callback(9);
  EXPECT_EQ(a.result().get<int>(), 9);
}

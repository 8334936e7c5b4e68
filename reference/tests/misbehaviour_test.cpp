// Handlers that misbehave: the library's answer is defined (Twisted's, where
// Twisted has one) and never a crash, a hang or a lost result.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "deferred/deferred.h"
#include "recorder.h"

namespace {

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;
using Misbehaviour = deferred_test::RecordsUnhandled;

struct NotAnException {
  int code;
};

TEST_F(Misbehaviour, AHandlerThrowingANonExceptionTypeFailsTheChain) {
  Log log;
  Deferred d;
  d.addCallback([](Value) -> Value { throw NotAnException{7}; });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.typeName());
    EXPECT_TRUE(f.check<NotAnException>().has_value());
    return Value();
  });
  d.addCallback([&](Value) { log.push_back("recovered"); });
  EXPECT_NO_THROW(d.callback(Value(1)));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(log[0].find("NotAnException"), std::string::npos);
  EXPECT_EQ(log[1], "recovered");
}

TEST_F(Misbehaviour, AHandlerFiringItsOwnDeferredGetsAlreadyCalledError) {
  // Twisted: the handler's callback() raises AlreadyCalledError, which
  // becomes the chain's failure.
  Log log;
  Deferred d;
  Deferred self = d;
  d.addCallback([self](Value v) mutable {
    self.callback(Value(2));
    return v;
  });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<deferred::AlreadyCalledError>() ? "AlreadyCalledError" : f.toString());
    return Value();
  });
  d.callback(Value(1));
  EXPECT_EQ(log, (Log{"AlreadyCalledError"}));
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(Misbehaviour, AHandlerAddingHandlersInALoopRunsThemInOrderWithoutRecursion) {
  // Each handler adds the next one to its own Deferred: the new steps run
  // later in the same pass, so 100,000 of them use constant stack.
  constexpr int kSteps = 100000;
  int ran = 0;
  Deferred d;
  struct Adder {
    Deferred* d;
    int* ran;
    int left;
    Value operator()(Value v) const {
      ++*ran;
      if (left > 0) d->addCallback(Adder{d, ran, left - 1});
      return v;
    }
  };
  d.addCallback(Adder{&d, &ran, kSteps - 1});
  d.callback(Value(0));
  EXPECT_EQ(ran, kSteps);
}

TEST_F(Misbehaviour, AHandlerAddingHandlersBeforeFiringRunsThemAfterTheRest) {
  Log log;
  Deferred d;
  d.addCallback([&](Value v) {
    log.push_back("first");
    d.addCallback([&](Value w) {
      log.push_back("added by first");
      return w;
    });
    return v;
  });
  d.addCallback([&](Value v) {
    log.push_back("second");
    return v;
  });
  d.callback(Value(1));
  EXPECT_EQ(log, (Log{"first", "second", "added by first"}));
}

TEST_F(Misbehaviour, AHandlerReturningItsOwnDeferredGetsSelfChainError) {
  Log log;
  Deferred d;
  Deferred self = d;
  d.addCallback([self](Value) { return self; });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<deferred::SelfChainError>() ? "SelfChainError" : f.toString());
    return Value();
  });
  d.callback(Value(1));
  EXPECT_EQ(log, (Log{"SelfChainError"}));
}

TEST_F(Misbehaviour, ACancellerThrowingANonExceptionTypePropagatesAndLeavesItPending) {
  Deferred d([](Deferred&) { throw NotAnException{3}; });
  EXPECT_THROW(d.cancel(), NotAnException);
  EXPECT_FALSE(d.called());
  d.callback(Value(1));  // still usable afterwards
  EXPECT_TRUE(d.called());
}

// A handler whose copy throws: passing it by lvalue cannot store it.
struct ThrowsWhenCopied {
  ThrowsWhenCopied() = default;
  ThrowsWhenCopied(const ThrowsWhenCopied&) { throw std::runtime_error("cannot copy"); }
  ThrowsWhenCopied(ThrowsWhenCopied&&) noexcept = default;
  void operator()() const {}
};

TEST_F(Misbehaviour, AHandlerThatCannotBeStoredThrowsAndLeavesTheChainAsItWas) {
  Log log;
  Deferred d;
  d.addCallback([&](int x) { log.push_back("first " + std::to_string(x)); return x + 1; });
  ThrowsWhenCopied unstorable;
  EXPECT_THROW(d.addCallback(unstorable), std::runtime_error);
  // The errback half fails after the callback half was stored: that goes too.
  auto captured = std::make_shared<int>(0);
  EXPECT_THROW(d.addCallbacks([captured] {}, unstorable), std::runtime_error);
  EXPECT_EQ(captured.use_count(), 1);
  EXPECT_EQ(d.pendingSteps(), 1u);
  d.addCallback([&](int x) { log.push_back("second " + std::to_string(x)); });
  d.callback(1);
  EXPECT_EQ(log, (Log{"first 1", "second 2"}));
  EXPECT_THROW(d.addCallback(unstorable), std::runtime_error);  // fired: nothing runs
  EXPECT_EQ(d.pendingSteps(), 0u);
}

TEST_F(Misbehaviour, AHandlerExpectingTheWrongTypeFailsWithTypeMismatch) {
  Log log;
  Deferred d;
  d.addCallback([&](const std::string& s) { log.push_back(s); });
  d.addErrback([&](const Failure& f) {
    log.push_back(f.check<deferred::TypeMismatchError>() ? "TypeMismatchError" : f.toString());
    return Value();
  });
  d.callback(Value(42));
  EXPECT_EQ(log, (Log{"TypeMismatchError"}));
}

}  // namespace

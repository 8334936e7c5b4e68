// Reporting of failures left unhandled when a Deferred is destroyed
// (Twisted's DebugInfo.__del__).
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
struct Unhandled : deferred_test::RecordsUnhandled {};
}  // namespace

TEST_F(Unhandled, ReportedWhenLastReferenceGoes) {
  {
    Deferred d;
    Deferred copy = d;
    d.errback(std::runtime_error("lost"));
    d = Deferred();
    EXPECT_TRUE(unhandled.empty());  // a copy still refers to it
  }
  EXPECT_EQ(unhandled, (Log{"std::runtime_error: lost"}));
}

TEST_F(Unhandled, NotReportedOnceHandled) {
  {
    Deferred d;
    d.errback(std::runtime_error("handled"));
    d.addErrback([](const Failure&) { return 0; });
  }
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(Unhandled, ReportedWhenErrbackPassesItOn) {
  {
    Deferred d;
    d.addErrback([](const Failure& f) { return f; });
    d.errback(std::logic_error("passed on"));
  }
  EXPECT_EQ(unhandled, (Log{"std::logic_error: passed on"}));
}

TEST_F(Unhandled, NotReportedWhenConsumedByOuter) {
  {
    Deferred inner = deferred::fail(std::runtime_error("moved"));
    Deferred outer = deferred::succeed();
    outer.addCallback([&](Value) { return inner; });
    outer.addErrback([](const Failure&) {});
  }
  EXPECT_TRUE(unhandled.empty());
  {
    // Consumed, but not handled by the outer chain: the outer reports it,
    // once.
    Deferred inner;
    Deferred outer = deferred::succeed();
    outer.addCallback([&](Value) { return inner; });
    inner.errback(std::runtime_error("unhandled by outer"));
  }
  EXPECT_EQ(unhandled, (Log{"std::runtime_error: unhandled by outer"}));
}

TEST_F(Unhandled, NotReportedWhileNeverRunBecausePaused) {
  // Twisted records the failure for reporting only when a pass over the
  // handlers finishes; a Deferred that was paused all along reports nothing.
  {
    Deferred d;
    d.pause();
    d.errback(std::runtime_error("paused"));
  }
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(Unhandled, SinkReceivesTheFailureItself) {
  Failure original(std::runtime_error("identity"));
  bool same = false;
  auto before = deferred::setUnhandledErrorSink(
      [&](const Failure& f) { same = f.sameAs(original); });
  { deferred::fail(original); }
  deferred::setUnhandledErrorSink(before);
  EXPECT_TRUE(same);
}

TEST_F(Unhandled, ThrowingSinkIsContained) {
  auto before = deferred::setUnhandledErrorSink(
      [](const Failure&) { throw std::runtime_error("sink broke"); });
  EXPECT_NO_THROW({ deferred::fail(std::runtime_error("x")); });
  deferred::setUnhandledErrorSink(before);
}

TEST_F(Unhandled, DefaultSinkPrintsToStderr) {
  auto mine = deferred::setUnhandledErrorSink(nullptr);  // default
  ::testing::internal::CaptureStderr();
  { deferred::fail(std::runtime_error("to stderr")); }
  std::string text = ::testing::internal::GetCapturedStderr();
  deferred::setUnhandledErrorSink(mine);
  EXPECT_EQ(text, "Unhandled error in Deferred:\nFailure: std::runtime_error: to stderr\n");
}

TEST_F(Unhandled, FailureOfEachDroppedDeferredIsReportedOnce) {
  {
    Deferred a = deferred::fail(std::runtime_error("a"));
    Deferred b = deferred::fail(std::runtime_error("b"));
  }
  ASSERT_EQ(unhandled.size(), 2u);
  std::sort(unhandled.begin(), unhandled.end());
  EXPECT_EQ(unhandled, (Log{"std::runtime_error: a", "std::runtime_error: b"}));
}

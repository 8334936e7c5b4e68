// Long chains: iteration instead of recursion, linear time, iterative
// destruction. These run under the default stack of the test process.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;

namespace {
constexpr int kMillion = 1'000'000;

struct Stress : ::testing::Test {
  void SetUp() override {
    previous = deferred::setUnhandledErrorSink([this](const Failure&) { ++reports; });
  }
  void TearDown() override { deferred::setUnhandledErrorSink(previous); }
  deferred::UnhandledErrorSink previous;
  int reports = 0;
};
}  // namespace

TEST_F(Stress, MillionStepChain) {
  Deferred d;
  for (int i = 0; i < kMillion; ++i) d.addCallback([](int x) { return x + 1; });
  auto start = std::chrono::steady_clock::now();
  d.callback(0);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(d.result().get<int>(), kMillion);
  EXPECT_EQ(d.pendingSteps(), 0u);
  // Linear: a quadratic runner would take hours here.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 10);
}

TEST_F(Stress, MillionStepsAddedToFiredDeferred) {
  Deferred d = deferred::succeed(0);
  for (int i = 0; i < kMillion; ++i) d.addCallback([](int x) { return x + 1; });
  EXPECT_EQ(d.result().get<int>(), kMillion);
}

TEST_F(Stress, MillionStepErrorPath) {
  Deferred d;
  int callbacks = 0;
  for (int i = 0; i < kMillion; ++i) d.addCallback([&](Value v) { ++callbacks; return v; });
  d.addErrback([](const Failure& f) { return f.message(); });
  d.errback(std::runtime_error("through"));
  EXPECT_EQ(callbacks, 0);
  EXPECT_EQ(d.result().get<std::string>(), "through");
}

TEST_F(Stress, MillionNestedReturnedDeferreds) {
  // d[i]'s callback returns d[i+1], which has no result yet, so each waits on
  // the next. Firing the innermost propagates the result up through a million
  // waiting Deferreds.
  std::vector<Deferred> ds(kMillion);
  for (int i = 0; i + 1 < kMillion; ++i) {
    ds[i].addCallback([next = ds[i + 1]](Value) { return next; });
  }
  int finalValue = 0;
  ds[0].addCallback([&](int x) { finalValue = x; return x; });
  for (int i = 0; i + 1 < kMillion; ++i) ds[i].callback();
  EXPECT_TRUE(ds[0].isWaiting());
  ds[kMillion - 1].callback(42);
  EXPECT_EQ(finalValue, 42);
  EXPECT_FALSE(ds[0].isWaiting());
  EXPECT_TRUE(ds[kMillion / 2].result().isNull());
  ds.clear();
  EXPECT_EQ(reports, 0);
}

TEST_F(Stress, MillionNestedFiredInReverse) {
  // Inner Deferreds that already have results are taken immediately.
  std::vector<Deferred> ds(kMillion);
  for (int i = 0; i + 1 < kMillion; ++i) {
    ds[i].addCallback([next = ds[i + 1]](Value) { return next; });
  }
  ds[kMillion - 1].callback(7);
  for (int i = kMillion - 2; i >= 0; --i) ds[i].callback();
  EXPECT_EQ(ds[0].result().get<int>(), 7);
}

TEST_F(Stress, DroppingMillionLongChainOfChainedDeferreds) {
  // Each Deferred's handlers own the next Deferred (chainDeferred); dropping
  // the head releases them one by one without recursion.
  auto tail = std::make_shared<int>(0);
  std::weak_ptr<int> watch = tail;
  {
    Deferred head;
    Deferred current = head;
    for (int i = 0; i < kMillion; ++i) {
      Deferred next;
      current.chainDeferred(next);
      current = next;
    }
    current.addCallback([t = std::move(tail)](Value) {});
  }
  EXPECT_TRUE(watch.expired());
}

TEST_F(Stress, DroppingMillionLongChainWithFailureReportsOnce) {
  {
    Deferred head;
    Deferred current = head;
    for (int i = 0; i < kMillion; ++i) {
      Deferred next;
      current.addCallback([next](Value v) { return v; });
      current = next;
    }
    current.errback(std::runtime_error("tail failed"));
  }
  EXPECT_EQ(reports, 1);
}

TEST_F(Stress, MillionWaitingDeferredsResolveAfterHandlesAreDropped) {
  // Fire-and-forget: only the innermost is kept; the waiting outer chain is
  // kept alive by the continuations and still runs when it fires.
  int finalValue = 0;
  Deferred innermost;
  {
    std::vector<Deferred> ds(kMillion);
    ds[kMillion - 1] = innermost;
    for (int i = 0; i + 1 < kMillion; ++i) {
      ds[i].addCallback([next = ds[i + 1]](Value) { return next; });
    }
    ds[0].addCallback([&](int x) { finalValue = x; });
    for (int i = 0; i + 1 < kMillion; ++i) ds[i].callback();
  }
  innermost.callback(5);
  EXPECT_EQ(finalValue, 5);
}

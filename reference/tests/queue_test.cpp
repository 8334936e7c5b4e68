// DeferredQueue, QueueOverflow and QueueUnderflow (Twisted 22.4).
#include <deferred/queue.h>
#include <gtest/gtest.h>

#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::DeferredQueue;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {
const auto ignoreFailure = [](const Failure&) {};
}  // namespace

TEST(DeferredQueue, GetOfAPendingValueHasFiredAlready) {
  DeferredQueue q;
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.pending().size(), 2u);
  Deferred a = q.get();
  Deferred b = q.get();
  EXPECT_EQ(a.result().get<int>(), 1);  // oldest first
  EXPECT_EQ(b.result().get<int>(), 2);
  EXPECT_TRUE(q.pending().empty());
}

TEST(DeferredQueue, PutServesTheFirstWaitingGetInsidePut) {
  DeferredQueue q;
  Log log;
  q.get().addCallback([&](const std::string& s) { log.push_back("first " + s); });
  q.get().addCallback([&](const std::string& s) { log.push_back("second " + s); });
  EXPECT_EQ(q.waiting(), 2u);
  q.put(std::string("a"));
  EXPECT_EQ(log, Log{"first a"});  // before put() returned
  q.put(std::string("b"));
  q.put(std::string("c"));  // nobody waits: kept
  EXPECT_EQ(log, (Log{"first a", "second b"}));
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_EQ(q.pending().front().get<std::string>(), "c");
}

TEST(DeferredQueue, AFailurePutIsTheGetsFailure) {
  DeferredQueue q;
  Deferred waiting = q.get();
  q.put(Failure(std::runtime_error("bad item")));
  ASSERT_NE(waiting.failure(), nullptr);
  EXPECT_EQ(waiting.failure()->message(), "bad item");
  q.put(Failure(std::runtime_error("stored")));
  Deferred later = q.get();
  ASSERT_NE(later.failure(), nullptr);
  waiting.addErrback(ignoreFailure);
  later.addErrback(ignoreFailure);
}

TEST(DeferredQueue, SizeLimitRaisesQueueOverflow) {
  DeferredQueue q(2);
  q.put(1);
  q.put(2);
  EXPECT_THROW(q.put(3), deferred::QueueOverflow);
  EXPECT_EQ(q.pending().size(), 2u);  // unchanged
  q.get();
  EXPECT_NO_THROW(q.put(3));
}

TEST(DeferredQueue, SizeZeroStillServesWaiters) {
  DeferredQueue q(0);
  EXPECT_THROW(q.put(1), deferred::QueueOverflow);
  Deferred waiting = q.get();
  EXPECT_NO_THROW(q.put(1));
  EXPECT_EQ(waiting.result().get<int>(), 1);
}

TEST(DeferredQueue, BacklogLimitRaisesQueueUnderflow) {
  DeferredQueue q(std::nullopt, 1);
  Deferred waiting = q.get();
  EXPECT_THROW(q.get(), deferred::QueueUnderflow);
  EXPECT_EQ(q.waiting(), 1u);
  q.put(1);
  EXPECT_NO_THROW(q.get());  // the backlog was freed
  DeferredQueue none(std::nullopt, 0);
  EXPECT_THROW(none.get(), deferred::QueueUnderflow);
  none.put(5);
  EXPECT_EQ(none.get().result().get<int>(), 5);  // a pending value needs no backlog
}

TEST(DeferredQueue, QueueErrorsAreDistinctLibraryErrors) {
  Failure overflow{deferred::QueueOverflow()};
  Failure underflow{deferred::QueueUnderflow()};
  EXPECT_EQ((overflow.check<deferred::QueueUnderflow, deferred::QueueOverflow>()), 1u);
  EXPECT_EQ((underflow.check<deferred::QueueOverflow, deferred::QueueUnderflow>()), 1u);
  EXPECT_TRUE(overflow.check<deferred::Error>().has_value());
  EXPECT_EQ(overflow.trap<deferred::QueueOverflow>(), 0u);
  EXPECT_THROW(underflow.trap<deferred::QueueOverflow>(), Failure);
}

TEST(DeferredQueue, CancellingAWaitingGetRemovesIt) {
  DeferredQueue q(std::nullopt, 1);
  Deferred waiting = q.get();
  waiting.cancel();
  ASSERT_NE(waiting.failure(), nullptr);
  EXPECT_TRUE(waiting.failure()->check<deferred::CancelledError>().has_value());
  EXPECT_EQ(q.waiting(), 0u);
  Deferred next = q.get();  // the backlog is free again
  q.put(std::string("x"));  // goes to `next`, not to the cancelled one
  EXPECT_EQ(next.result().get<std::string>(), "x");
  waiting.addErrback(ignoreFailure);
}

TEST(DeferredQueue, CancellingAFiredGetDoesNothing) {
  DeferredQueue q;
  q.put(1);
  Deferred got = q.get();
  got.cancel();
  EXPECT_EQ(got.result().get<int>(), 1);
}

TEST(DeferredQueue, WaitersMayPutAndGetFromTheirCallbacks) {
  DeferredQueue q;
  Log log;
  q.get().addCallback([&](int v) {
    log.push_back("got " + std::to_string(v));
    q.put(v + 1);  // nobody waits yet: kept
    q.get().addCallback([&](int w) { log.push_back("then " + std::to_string(w)); });
  });
  q.put(1);
  EXPECT_EQ(log, (Log{"got 1", "then 2"}));
  EXPECT_TRUE(q.pending().empty());
}

TEST(DeferredQueue, AWaitingGetDoesNotKeepTheQueueAlive) {
  Deferred waiting;
  {
    DeferredQueue q;
    waiting = q.get();
  }
  EXPECT_NO_THROW(waiting.cancel());  // the canceller finds no queue
  EXPECT_TRUE(waiting.isFailure());
  waiting.addErrback(ignoreFailure);
}

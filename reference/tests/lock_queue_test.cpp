// DeferredLock, DeferredSemaphore and DeferredQueue (Twisted 22.4).
#include <deferred/lock.h>
#include <deferred/queue.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::DeferredLock;
using deferred::DeferredQueue;
using deferred::DeferredSemaphore;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

TEST(DeferredLock, AcquireFiresWithTheLockAndWaitersAreFifo) {
  DeferredLock lock;
  Log log;
  Deferred first = lock.acquire();
  ASSERT_TRUE(first.hasResult());
  EXPECT_TRUE(first.result().get<DeferredLock>().sameAs(lock));
  EXPECT_TRUE(lock.locked());
  lock.acquire().addCallback([&](Value) { log.push_back("second"); });
  lock.acquire().addCallback([&](Value) { log.push_back("third"); });
  EXPECT_EQ(lock.waiting(), 2u);
  lock.release();
  EXPECT_EQ(log, Log{"second"});
  lock.release();
  EXPECT_EQ(log, (Log{"second", "third"}));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), std::logic_error);
}

TEST(DeferredLock, CancelledWaiterLeavesTheQueue) {
  DeferredLock lock;
  lock.acquire();
  Deferred waiter = lock.acquire();
  waiter.cancel();
  EXPECT_TRUE(waiter.failure()->check<deferred::CancelledError>().has_value());
  EXPECT_EQ(lock.waiting(), 0u);
  lock.release();
  EXPECT_FALSE(lock.locked());
  waiter.addErrback([](const Failure&) {});
}

TEST(DeferredLock, RunReleasesWhenTheFunctionsDeferredFires) {
  DeferredLock lock;
  Deferred work;
  Deferred ran = lock.run([&] { return work; });
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(ran.hasResult());
  work.callback(std::string("done"));
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(ran.result().get<std::string>(), "done");
}

TEST(DeferredLock, RunReleasesWhenTheFunctionThrows) {
  DeferredLock lock;
  Deferred ran = lock.run([]() -> int { throw std::runtime_error("broken"); });
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(ran.failure()->check<std::runtime_error>().has_value());
  ran.addErrback([](const Failure&) {});
}

TEST(DeferredSemaphore, LimitsHoldersAndRejectsBadTokenCounts) {
  EXPECT_THROW(DeferredSemaphore(0), std::invalid_argument);
  DeferredSemaphore sem(2);
  Deferred a = sem.acquire(), b = sem.acquire(), c = sem.acquire();
  EXPECT_TRUE(a.hasResult());
  EXPECT_TRUE(b.hasResult());
  EXPECT_FALSE(c.called());
  EXPECT_TRUE(a.result().get<DeferredSemaphore>().sameAs(sem));
  EXPECT_EQ(sem.tokens(), 0);
  sem.release();
  EXPECT_TRUE(c.hasResult());
  EXPECT_EQ(sem.tokens(), 0);
  sem.release();
  sem.release();
  EXPECT_EQ(sem.tokens(), 2);
  EXPECT_THROW(sem.release(), std::logic_error);
}

TEST(DeferredQueue, PutServesWaitersFirstThenStores) {
  DeferredQueue q;
  Log log;
  q.get().addCallback([&](const std::string& s) { log.push_back("got " + s); });
  q.put(std::string("a"));
  q.put(std::string("b"));
  EXPECT_EQ(log, Log{"got a"});
  ASSERT_EQ(q.pending().size(), 1u);
  Deferred next = q.get();
  EXPECT_EQ(next.result().get<std::string>(), "b");
  EXPECT_TRUE(q.pending().empty());
}

TEST(DeferredQueue, SizeAndBacklogLimits) {
  DeferredQueue q(1, 1);
  q.put(1);
  EXPECT_THROW(q.put(2), deferred::QueueOverflow);
  EXPECT_EQ(q.pending().size(), 1u);
  q.get();
  Deferred waiting = q.get();
  EXPECT_THROW(q.get(), deferred::QueueUnderflow);
  waiting.cancel();  // frees the backlog
  waiting.addErrback([](const Failure&) {});
  EXPECT_EQ(q.waiting(), 0u);
  EXPECT_NO_THROW(q.get());
}

TEST(DeferredQueue, WaitingGetDoesNotKeepTheQueueAlive) {
  Deferred waiting;
  {
    DeferredQueue q;
    waiting = q.get();
  }
  EXPECT_NO_THROW(waiting.cancel());  // the canceller finds no queue
  EXPECT_TRUE(waiting.isFailure());
  waiting.addErrback([](const Failure&) {});
}

// DeferredLock and DeferredSemaphore (Twisted 22.4).
#include <deferred/lock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::DeferredLock;
using deferred::DeferredSemaphore;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {
const auto ignoreFailure = [](const Failure&) {};
}  // namespace

// --- DeferredLock ---------------------------------------------------------------

TEST(DeferredLock, AcquireOfAFreeLockFiresAtOnceWithTheLock) {
  DeferredLock lock;
  EXPECT_FALSE(lock.locked());
  Deferred first = lock.acquire();
  ASSERT_TRUE(first.hasResult());
  ASSERT_TRUE(first.result().is<DeferredLock>());
  EXPECT_TRUE(first.result().get<DeferredLock>().sameAs(lock));
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.waiting(), 0u);
}

TEST(DeferredLock, WaitersAreServedInOrderInsideRelease) {
  DeferredLock lock;
  Log log;
  lock.acquire();
  Deferred second = lock.acquire();
  Deferred third = lock.acquire();
  second.addCallback([&](const DeferredLock& l) {
    log.push_back("second");
    EXPECT_TRUE(l.locked());
  });
  third.addCallback([&](Value) { log.push_back("third"); });
  EXPECT_FALSE(second.called());
  EXPECT_EQ(lock.waiting(), 2u);
  lock.release();
  EXPECT_EQ(log, Log{"second"});  // before release() returned
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_EQ(log, (Log{"second", "third"}));
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(DeferredLock, AWaiterMayReleaseFromItsCallback) {
  DeferredLock lock;
  Log log;
  lock.acquire();
  lock.acquire().addCallback([&](DeferredLock l) {
    log.push_back("b");
    l.release();  // hands over to c, nested
    log.push_back("b released");
  });
  lock.acquire().addCallback([&](Value) { log.push_back("c"); });
  lock.release();
  EXPECT_EQ(log, (Log{"b", "c", "b released"}));
  EXPECT_TRUE(lock.locked());
}

TEST(DeferredLock, ReleasingAnUnlockedLockThrowsAndChangesNothing) {
  DeferredLock lock;
  EXPECT_THROW(lock.release(), std::logic_error);
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.release(), std::logic_error);
  EXPECT_NO_THROW(lock.acquire());
}

TEST(DeferredLock, CancellingAWaiterRemovesItFromTheQueue) {
  DeferredLock lock;
  Log log;
  lock.acquire();
  Deferred cancelled = lock.acquire();
  lock.acquire().addCallback([&](Value) { log.push_back("third"); });
  cancelled.cancel();
  ASSERT_NE(cancelled.failure(), nullptr);
  EXPECT_TRUE(cancelled.failure()->check<deferred::CancelledError>().has_value());
  EXPECT_EQ(lock.waiting(), 1u);
  lock.release();  // skips the cancelled waiter
  EXPECT_EQ(log, Log{"third"});
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  cancelled.addErrback(ignoreFailure);
}

TEST(DeferredLock, CancellingTheHoldersAcquireDoesNothing) {
  DeferredLock lock;
  Deferred held = lock.acquire();
  held.cancel();
  EXPECT_TRUE(held.hasResult());
  EXPECT_FALSE(held.isFailure());
  EXPECT_TRUE(lock.locked());
}

TEST(DeferredLock, RunOnAFreeLockCallsAtOnceAndReleasesAfterAValue) {
  DeferredLock lock;
  bool lockedInside = false;
  Deferred ran = lock.run([&](int a, const std::string& b) {
    lockedInside = lock.locked();
    return b + std::to_string(a);
  }, 1, std::string("x"));
  EXPECT_TRUE(lockedInside);
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(ran.result().get<std::string>(), "x1");
}

TEST(DeferredLock, RunHoldsTheLockUntilTheReturnedDeferredFires) {
  DeferredLock lock;
  Deferred work;
  Deferred ran = lock.run([&] { return work; });
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(ran.isWaiting());
  work.callback(std::string("done"));
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(ran.result().get<std::string>(), "done");
}

TEST(DeferredLock, RunReleasesOnAnExceptionOrAFailure) {
  DeferredLock lock;
  Deferred thrown = lock.run([]() -> int { throw std::runtime_error("broken"); });
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(thrown.failure()->check<std::runtime_error>().has_value());
  Deferred work;
  Deferred failed = lock.run([&] { return work; });
  work.errback(std::invalid_argument("job failed"));
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(failed.failure()->check<std::invalid_argument>().has_value());
  thrown.addErrback(ignoreFailure);
  failed.addErrback(ignoreFailure);
}

TEST(DeferredLock, RunWaitsForTheLockAndRunsInOrder) {
  DeferredLock lock;
  Log log;
  Deferred job1;
  Deferred r1 = lock.run([&] {
    log.push_back("f1");
    return job1;
  });
  Deferred r2 = lock.run([&] {
    log.push_back("f2");
    return std::string("second");
  });
  EXPECT_EQ(log, Log{"f1"});
  EXPECT_EQ(lock.waiting(), 1u);
  job1.callback(std::string("first"));  // releases: f2 runs and releases
  EXPECT_EQ(log, (Log{"f1", "f2"}));
  EXPECT_EQ(r1.result().get<std::string>(), "first");
  EXPECT_EQ(r2.result().get<std::string>(), "second");
  EXPECT_FALSE(lock.locked());
}

TEST(DeferredLock, CancellingAQueuedRunNeverCallsTheFunction) {
  DeferredLock lock;
  bool called = false;
  lock.acquire();
  Deferred queued = lock.run([&] { called = true; });
  queued.cancel();
  EXPECT_TRUE(queued.failure()->check<deferred::CancelledError>().has_value());
  lock.release();
  EXPECT_FALSE(called);
  EXPECT_FALSE(lock.locked());
  queued.addErrback(ignoreFailure);
}

TEST(DeferredLock, AFunctionReleasingTheLockItselfFailsTheRun) {
  // Twisted: the release after the function asserts; its AssertionError
  // becomes the run's result.
  DeferredLock lock;
  Deferred ran = lock.run([&] {
    lock.release();
    return 1;
  });
  ASSERT_NE(ran.failure(), nullptr);
  EXPECT_TRUE(ran.failure()->check<std::logic_error>().has_value());
  EXPECT_FALSE(lock.locked());
  ran.addErrback(ignoreFailure);
}

TEST(DeferredLock, RunKeepsTheLockAliveUntilReleased) {
  Log log;
  Deferred job;
  Deferred second;
  {
    DeferredLock lock;
    lock.run([&] { return job; });
    second = lock.run([&] { log.push_back("second ran"); });
  }  // every handle dropped
  job.callback();  // the run still releases, and the queued one runs
  EXPECT_EQ(log, Log{"second ran"});
  EXPECT_TRUE(second.hasResult());
}

TEST(DeferredLock, AQueuedRunDoesNotKeepTheLockAlive) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  Deferred holder;
  {
    DeferredLock lock;
    holder = lock.acquire();  // its result holds the lock
    lock.run([token] {});     // queued: its step holds the function
    token.reset();
  }
  EXPECT_FALSE(watch.expired());
  holder = Deferred();  // the last handle on the lock goes, with its queue
  EXPECT_TRUE(watch.expired());
}

TEST(DeferredLock, AWaiterOfADestroyedLockCanStillBeCancelled) {
  Deferred waiter;
  {
    DeferredLock lock;
    lock.acquire();
    waiter = lock.acquire();
  }
  waiter.cancel();
  EXPECT_TRUE(waiter.failure()->check<deferred::CancelledError>().has_value());
  waiter.addErrback(ignoreFailure);
}

// --- DeferredSemaphore ----------------------------------------------------------

TEST(DeferredSemaphore, RejectsFewerThanOneToken) {
  EXPECT_THROW(DeferredSemaphore(0), std::invalid_argument);
  EXPECT_THROW(DeferredSemaphore(-3), std::invalid_argument);
}

TEST(DeferredSemaphore, TokensLimitAndWaiters) {
  DeferredSemaphore sem(2);
  EXPECT_EQ(sem.tokens(), 2);
  EXPECT_EQ(sem.limit(), 2);
  Deferred a = sem.acquire(), b = sem.acquire(), c = sem.acquire();
  EXPECT_TRUE(a.hasResult());
  EXPECT_TRUE(b.hasResult());
  EXPECT_FALSE(c.called());
  ASSERT_TRUE(a.result().is<DeferredSemaphore>());
  EXPECT_TRUE(a.result().get<DeferredSemaphore>().sameAs(sem));
  EXPECT_EQ(sem.tokens(), 0);
  EXPECT_EQ(sem.waiting(), 1u);
  sem.release();  // handed to c: the count stays
  EXPECT_TRUE(c.hasResult());
  EXPECT_EQ(sem.tokens(), 0);
  sem.release();
  sem.release();
  EXPECT_EQ(sem.tokens(), 2);
  EXPECT_THROW(sem.release(), std::logic_error);
  EXPECT_EQ(sem.tokens(), 2);
}

TEST(DeferredSemaphore, RunLimitsConcurrency) {
  DeferredSemaphore sem(2);
  Log log;
  Deferred jobs[3];
  for (int i = 0; i < 3; ++i) {
    sem.run([&, i] {
      log.push_back("start " + std::to_string(i));
      return jobs[i];
    });
  }
  EXPECT_EQ(log, (Log{"start 0", "start 1"}));
  EXPECT_EQ(sem.waiting(), 1u);
  jobs[1].callback();
  EXPECT_EQ(log, (Log{"start 0", "start 1", "start 2"}));
  jobs[0].callback();
  jobs[2].callback();
  EXPECT_EQ(sem.tokens(), 2);
}

TEST(DeferredSemaphore, CancellingAWaiterRemovesIt) {
  DeferredSemaphore sem(1);
  sem.acquire();
  Deferred w1 = sem.acquire();
  Deferred w2 = sem.acquire();
  w1.cancel();
  EXPECT_EQ(sem.waiting(), 1u);
  sem.release();
  EXPECT_TRUE(w2.hasResult());
  EXPECT_EQ(sem.tokens(), 0);
  w1.addErrback(ignoreFailure);
}

TEST(DeferredSemaphore, ALockIsASemaphoreWithOneToken) {
  DeferredLock lock;
  DeferredSemaphore asSemaphore = lock;
  EXPECT_EQ(asSemaphore.limit(), 1);
  Deferred d = asSemaphore.acquire();
  EXPECT_TRUE(d.result().is<DeferredLock>());  // fires with the lock itself
  EXPECT_TRUE(lock.locked());
  asSemaphore.release();
  EXPECT_FALSE(lock.locked());
}

// The reference cycles Deferreds invite, and what becomes of them when every
// handle is dropped. Python's garbage collector frees such cycles in
// Twisted; here a waiting group is freed when only its waiting links keep it
// alive, and the other shapes are broken by design (weak references). Each
// test watches a token captured by a handler: the token expires exactly when
// the step holding it is destroyed, i.e. when its Deferred is freed.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "deferred/coroutine.h"
#include "deferred/deferred.h"
#include "deferred/list.h"
#include "deferred/lock.h"
#include "deferred/queue.h"
#include "deferred/timeout.h"
#include "recorder.h"

namespace {

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;

struct Token {
  std::shared_ptr<int> strong = std::make_shared<int>(0);
  std::weak_ptr<int> watch = strong;
  bool freed() const { return watch.expired(); }
};

// A pass-through callback that keeps `token` alive while its step exists.
auto holding(const Token& token) {
  return [keep = token.strong](Value v) { return v; };
}

using Cycles = deferred_test::RecordsUnhandled;

// outer's callback returns inner, which never fires.
struct WaitingPair {
  Token outerToken, innerToken;
  Deferred inner, outer;
  WaitingPair() {
    inner.addCallback(holding(innerToken));
    Deferred returned = inner;
    outer.addCallback([returned](Value) { return returned; });
    outer.addCallback(holding(outerToken));
    outer.callback(Value(1));
  }
};

TEST_F(Cycles, AWaitingPairNobodyHoldsIsFreed) {
  auto pair = std::make_unique<WaitingPair>();
  Token& outerToken = pair->outerToken;
  Token& innerToken = pair->innerToken;
  Token keepO = outerToken, keepI = innerToken;  // copies outlive the pair
  outerToken.strong.reset();
  innerToken.strong.reset();
  keepO.strong.reset();
  keepI.strong.reset();
  EXPECT_FALSE(keepO.freed());
  EXPECT_FALSE(keepI.freed());
  pair.reset();
  EXPECT_TRUE(keepO.freed());
  EXPECT_TRUE(keepI.freed());
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(Cycles, AHeldInnerKeepsTheWaitingOuterAndFiresIt) {
  Token outerToken;
  int seen = 0;
  Deferred inner;
  {
    Deferred outer;
    Deferred returned = inner;
    outer.addCallback([returned](Value) { return returned; });
    outer.addCallback([&seen, keep = outerToken.strong](Value v) {
      seen = v.get<int>();
      return v;
    });
    outer.callback(Value(1));
  }
  outerToken.strong.reset();
  EXPECT_FALSE(outerToken.freed());  // as in Twisted: inner's step holds outer
  inner.callback(Value(7));
  EXPECT_EQ(seen, 7);
  EXPECT_TRUE(outerToken.freed());
}

TEST_F(Cycles, AHeldOuterKeepsTheInnerItCanStillCancel) {
  Token innerToken;
  Deferred outer;
  {
    Deferred inner;
    inner.addCallback(holding(innerToken));
    Deferred returned = inner;
    outer.addCallback([returned](Value) { return returned; });
    outer.callback(Value(1));
  }
  innerToken.strong.reset();
  EXPECT_FALSE(innerToken.freed());
  outer.cancel();  // reaches inner: the chain continues with CancelledError
  bool cancelled = false;
  outer.addErrback([&](Failure f) {
    cancelled = f.check<deferred::CancelledError>().has_value();
    return Value();
  });
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(innerToken.freed());
}

TEST_F(Cycles, ANestedWaitingChainAndSharedInnerAreFreed) {
  Token bottomToken, topToken, otherToken;
  {
    Deferred bottom;
    bottom.addCallback(holding(bottomToken));
    Deferred middle, top, other;
    middle.addCallback([bottom](Value) { return bottom; });
    middle.callback(Value(1));
    top.addCallback([middle](Value) { return middle; });
    top.addCallback(holding(topToken));
    top.callback(Value(2));
    // A second Deferred waiting on the same bottom one.
    other.addCallback([bottom](Value) { return bottom; });
    other.addCallback(holding(otherToken));
    other.callback(Value(3));
  }
  bottomToken.strong.reset();
  topToken.strong.reset();
  otherToken.strong.reset();
  EXPECT_TRUE(bottomToken.freed());
  EXPECT_TRUE(topToken.freed());
  EXPECT_TRUE(otherToken.freed());
}

TEST_F(Cycles, APausedFailedInnerIsFreedWithoutAnUnhandledReport) {
  Token innerToken;
  {
    Deferred inner;
    inner.pause();
    inner.errback(Failure(std::runtime_error("behind a pause")));
    inner.addBoth(holding(innerToken));
    Deferred outer;
    outer.addCallback([inner](Value) { return inner; });
    outer.callback(Value(1));
  }
  innerToken.strong.reset();
  EXPECT_TRUE(innerToken.freed());
  // Twisted records a failure as unhandled only when its chain ran to the
  // end; a paused one never did.
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(Cycles, AHandlerHoldingTheInnerKeepsTheGroup) {
  // A reference the library cannot see (a capture) keeps the group alive:
  // the collection is conservative.
  Token innerToken;
  Deferred keepAlive;
  {
    Deferred inner;
    inner.addCallback(holding(innerToken));
    Deferred outer;
    outer.addCallback([inner](Value) { return inner; });
    outer.callback(Value(1));
    keepAlive.addCallback([inner](Value v) { return v; });
  }
  innerToken.strong.reset();
  EXPECT_FALSE(innerToken.freed());
  keepAlive = Deferred();  // the capture goes: now the pair is unreachable
  EXPECT_TRUE(innerToken.freed());
}

TEST_F(Cycles, ADeferredListAndItsPendingMembersAreFreed) {
  Token listToken;
  {
    std::vector<Deferred> members(3);
    members[1].callback(Value(1));
    Deferred list = deferred::deferredList(members);
    list.addCallback(holding(listToken));
  }
  listToken.strong.reset();
  EXPECT_TRUE(listToken.freed());
}

TEST_F(Cycles, AMemberWaitingOnItsOwnListIsFreed) {
  // A member's handler returns a list over that member: each waits on the
  // other (a deadlock only cancel() breaks). Found by the scenario fuzzer.
  Token memberToken, listToken;
  {
    Deferred member;
    Deferred self = member;
    member.addErrback([self, &listToken](Failure) {
      Deferred list = deferred::gatherResults({self});
      list.addBoth(holding(listToken));
      return list;
    });
    member.addBoth(holding(memberToken));
    member.errback(Failure(std::runtime_error("boom")));
  }
  memberToken.strong.reset();
  listToken.strong.reset();
  EXPECT_TRUE(memberToken.freed());
  EXPECT_TRUE(listToken.freed());
}

TEST_F(Cycles, AGatherFiredByHandWaitingOnItsOwnMemberIsFreed) {
  // Found by the scenario fuzzer: gatherResults' Deferred, fired by hand,
  // fails (null is no list) and its errback returns a member: it waits on
  // the member, whose member step holds the list.
  Token token;
  {
    Deferred d0, d1;
    Deferred gathered = deferred::gatherResults({d0, d1});
    gathered.callback(Value());
    Deferred member = d1;
    gathered.addCallbacks(deferred::passthru, [member](const Failure&) { return member; });
    gathered.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, AListWithAnotherLiveMemberKeepsTheGroup) {
  Token memberToken;
  Deferred other;
  bool resumed = false;
  {
    Deferred member;
    Deferred self = member;
    Deferred otherCopy = other;
    member.addCallback([self, otherCopy](Value) {
      return deferred::gatherResults({self, otherCopy});
    });
    member.addErrback([&resumed, keep = memberToken.strong](Failure f) {
      resumed = f.check<deferred::FirstError>().has_value();
      return Value();
    });
    member.callback(Value(1));
  }
  memberToken.strong.reset();
  EXPECT_FALSE(memberToken.freed());  // `other` can still fail the list
  other.errback(Failure(std::runtime_error("other failed")));
  EXPECT_TRUE(resumed);
  EXPECT_TRUE(memberToken.freed());
}

TEST_F(Cycles, AListChainedToItsOwnMemberIsFreed) {
  // The list's chainDeferred step holds the member, whose member step holds
  // the list; nothing waits. Found by the scenario fuzzer.
  Token listToken;
  {
    Deferred member;
    Deferred list = deferred::deferredList({member, member});
    list.chainDeferred(member);
    list.addBoth(holding(listToken));
  }
  listToken.strong.reset();
  EXPECT_TRUE(listToken.freed());
}

TEST_F(Cycles, AChainDeferredTargetHeldOnlyByItsSourceStaysUntilTheSourceGoes) {
  Token targetToken;
  Deferred source;
  {
    Deferred target;
    target.addBoth(holding(targetToken));
    source.chainDeferred(target);
  }
  targetToken.strong.reset();
  EXPECT_FALSE(targetToken.freed());  // source may still fire it
  source = Deferred();
  EXPECT_TRUE(targetToken.freed());
}

TEST_F(Cycles, ATimedOutDeferredWaitingOnAChainedOneIsFreed) {
  // Found by the scenario fuzzer: d4 times out, its errback returns d2 (so
  // d4 waits on d2), and d2 is chained to d0.
  Token token;
  {
    deferred::ManualClock clock;
    Deferred d0, d2, d4;
    Deferred returned = d2;
    d4.addErrback([returned](Failure) { return returned; });
    deferred::addTimeout(d4, 3.0, clock);
    d2.chainDeferred(d0);
    d4.addBoth(holding(token));
    clock.advance(10.0);
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, ALockRunWaitingOnANeverFiredDeferredIsFreed) {
  Token resultToken, waiterToken;
  {
    deferred::DeferredLock lock;
    Deferred never;
    Deferred first = lock.run([never]() { return never; });
    first.addCallback(holding(resultToken));
    Deferred second = lock.run([]() { return Value(2); });  // waits for the lock
    second.addCallback(holding(waiterToken));
  }
  resultToken.strong.reset();
  waiterToken.strong.reset();
  EXPECT_TRUE(resultToken.freed());
  EXPECT_TRUE(waiterToken.freed());
}

// Found by the scenario fuzzer: d0 holds the semaphore's only token and
// fires with the semaphore (as Twisted's acquire() does); d1 waits in its
// queue; a list over both records d0's result. The queue holds d1, whose
// member step holds the list's state, which holds the semaphore: a cycle
// through a result, freed whatever order the handles go in.
struct SemaphoreInItsOwnWaitersList {
  Token listToken;
  std::vector<std::function<void()>> drops;
  std::optional<deferred::DeferredSemaphore> semaphore{std::in_place, 1};
  std::optional<Deferred> d0, d1, list;
  SemaphoreInItsOwnWaitersList() {
    d0 = semaphore->acquire();
    d1 = semaphore->run([] { return Value(1); });
    list = deferred::deferredList({*d1, *d0});
    list->addCallback(holding(listToken));
    listToken.strong.reset();
    drops = {[this] { semaphore.reset(); }, [this] { d0.reset(); }, [this] { d1.reset(); },
             [this] { list.reset(); }};
  }
};

TEST_F(Cycles, ASemaphoreRecordedByItsWaitersListIsFreedInAnyDropOrder) {
  std::vector<int> order{0, 1, 2, 3};
  do {
    SemaphoreInItsOwnWaitersList group;
    for (int i : order) {
      EXPECT_FALSE(group.listToken.freed());
      group.drops[i]();
    }
    EXPECT_TRUE(group.listToken.freed()) << "drop order " << order[0] << order[1] << order[2]
                                         << order[3];
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(Cycles, ASemaphoreNestedInGatheredResultsOfItsWaitersListIsFreed) {
  // Found by the scenario fuzzer: the semaphore is inside a ValueList inside
  // a ValueList, as gatherResults over gatherResults records it.
  Token token;
  {
    deferred::DeferredSemaphore semaphore(1);
    Deferred holder = semaphore.acquire();
    Deferred inner = deferred::gatherResults({holder, holder});
    Deferred outer = deferred::gatherResults({inner, inner});
    Deferred waiter = semaphore.run([] { return Value(1); });
    Deferred list = deferred::gatherResults({outer, waiter});
    list.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, ASemaphoreInAFireOnOneCallbackResultOfItsWaitersListIsFreed) {
  Token token;
  {
    deferred::DeferredSemaphore semaphore(1);
    Deferred holder = semaphore.acquire();
    deferred::ListOptions first;
    first.fireOnOneCallback = true;
    Deferred any = deferred::deferredList({holder}, first);
    Deferred waiter = semaphore.run([] { return Value(1); });
    Deferred list = deferred::deferredList({any, waiter});
    list.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, AQueueRecordedByAListOverItsOwnGetIsFreed) {
  Token token;
  {
    deferred::DeferredQueue queue;
    Deferred waiting = queue.get();
    Deferred list = deferred::deferredList({waiting, deferred::succeed(Value(queue))});
    list.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, AHeldQueueKeepsTheListOverItsGetAndServesIt) {
  Token token;
  deferred::DeferredQueue kept;
  Deferred list;
  {
    deferred::DeferredQueue queue = kept;
    Deferred waiting = queue.get();
    list = deferred::gatherResults({waiting, deferred::succeed(Value(queue))});
    list.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_FALSE(token.freed());
  kept.put(Value(7));
  EXPECT_TRUE(list.called());
}

TEST_F(Cycles, AWaitingDeferredUnpausedByHandLeavesAStepThatIsStillFollowed) {
  // Found by the scenario fuzzer: `outer` waits on a list, is unpaused by
  // hand and moves on to wait on the list's member; the list keeps the old
  // step that resumes `outer`, and the member's step holds the list.
  Token token;
  {
    Deferred member;
    member.pause();
    member.callback(Value());  // has a result, paused: waited on
    Deferred list = deferred::deferredList({member});
    Deferred outer;
    outer.callback(Value(1));
    outer.addBoth([&list](Value) { return list; });
    ASSERT_TRUE(outer.isWaiting());
    outer.unpause();
    outer.addBoth([&member](Value) { return member; });
    ASSERT_TRUE(outer.isWaiting());
    outer.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, ASemaphoreHeldByRunsReleaseStepInItsOwnCycleIsFreed) {
  // Found by the scenario fuzzer: a run() waiter fired by hand runs its
  // function, whose Deferred gets run()'s release step (holding the
  // semaphore) and is chained to the holder, whose result is the semaphore,
  // whose line holds the waiter waiting on that Deferred.
  Token token;
  {
    deferred::DeferredSemaphore semaphore(1);
    Deferred holder = semaphore.acquire();
    Deferred inner;
    Deferred waiter = semaphore.run([&inner] { return inner; });
    inner.chainDeferred(holder);
    waiter.callback(Value());
    ASSERT_TRUE(waiter.isWaiting());
    waiter.addBoth(holding(token));
    Deferred second = semaphore.run([] { return Value(); });
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, ASemaphoreRecordedByAListOverALaterWaiterIsFreedFromTheFirst) {
  // Found by the scenario fuzzer: the semaphore goes last, and the first
  // waiter in its line is not the one feeding the list.
  Token token;
  {
    deferred::DeferredSemaphore semaphore(1);
    Deferred holder = semaphore.acquire();
    Deferred first = semaphore.run([] { return Value(); });
    Deferred second = semaphore.run([] { return Value(); });
    Deferred list = deferred::gatherResults({holder, second});
    list.addBoth(holding(token));
    semaphore.run([] { return Value(); });
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, AQueueRecordedByAListOverALaterGetIsFreed) {
  Token token;
  {
    deferred::DeferredQueue queue;
    Deferred first = queue.get();
    Deferred second = queue.get();
    Deferred list = deferred::gatherResults({deferred::succeed(Value(queue)), second});
    list.addBoth(holding(token));
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, AHeldSemaphoreKeepsItsWaitersListAndServesIt) {
  SemaphoreInItsOwnWaitersList group;
  deferred::DeferredSemaphore kept = *group.semaphore;
  group.semaphore.reset();
  group.d0.reset();
  group.d1.reset();
  Deferred list = *group.list;
  group.list.reset();
  EXPECT_FALSE(group.listToken.freed());
  kept.release();  // d1 gets the token, runs, and the list fires
  EXPECT_TRUE(list.called());
  EXPECT_EQ(kept.tokens(), 1);
}

Deferred awaitForever(Deferred awaited, std::shared_ptr<int> local) {
  co_await std::move(awaited);  // the frame keeps no handle on it
  co_return Value(*local);
}

TEST_F(Cycles, ACoroutineSuspendedOnADroppedDeferredIsFreed) {
  Token frameToken;
  {
    Deferred awaited;
    Deferred running = awaitForever(awaited, frameToken.strong);
  }
  frameToken.strong.reset();
  EXPECT_TRUE(frameToken.freed());  // the frame and its locals are gone
}

TEST_F(Cycles, ACoroutineChainedToTheDeferredItAwaitsIsFreed) {
  // Found by the scenario fuzzer: the awaited Deferred's step owns the frame,
  // the frame the coroutine's Deferred, whose chainDeferred step holds the
  // awaited one.
  Token frameToken;
  {
    Deferred awaited;
    Deferred running = awaitForever(awaited, frameToken.strong);
    running.chainDeferred(awaited);
  }
  frameToken.strong.reset();
  EXPECT_TRUE(frameToken.freed());
  EXPECT_TRUE(unhandled.empty()) << unhandled.size();  // as Twisted 22.4 (gc.collect())
}

Deferred awaitAfterCancel(Deferred first, Deferred second, std::shared_ptr<int> local) {
  try {
    co_await std::move(first);
  } catch (const deferred::CancelledError&) {
  }
  co_await std::move(second);
  co_return Value(*local);
}

TEST_F(Cycles, ACancelledCoroutineSuspendedAgainAndChainedToItsAwaitIsFreed) {
  // After cancel() the frame fires an internal Deferred that the coroutine's
  // Deferred waits on; suspended on `second`, the frame holds that one.
  Token frameToken;
  {
    Deferred first, second;
    Deferred running = awaitAfterCancel(first, second, frameToken.strong);
    running.cancel();  // cancels `first`: the coroutine catches it, awaits `second`
    EXPECT_TRUE(first.called());
    running.chainDeferred(second);
  }
  frameToken.strong.reset();
  EXPECT_TRUE(frameToken.freed());
  EXPECT_TRUE(unhandled.empty()) << unhandled.size();  // as Twisted 22.4 (gc.collect())
}

namespace {
// Awaits `first`, then the Deferred of this very coroutine (a deadlock, as
// in Twisted): the frame is then owned by a step of the Deferred it holds.
Deferred awaitsItself(const Deferred* first, const Deferred* self, std::shared_ptr<int> local) {
  co_await *first;
  co_await *self;
  co_return Value(*local);
}
}  // namespace

TEST_F(Cycles, ACoroutineAwaitingItsOwnDeferredIsFreed) {
  // Found by the scenario fuzzer: the collector found the pair, could not
  // cut the frame's hold, and looked again forever (a stack overflow).
  Token token;
  std::weak_ptr<int> frame;
  {
    Deferred first;
    Deferred self;  // becomes the coroutine's Deferred before it is awaited
    auto local = std::make_shared<int>(1);
    frame = local;
    self = awaitsItself(&first, &self, std::move(local));
    self.addBoth(holding(token));
    first.callback(Value());
    EXPECT_FALSE(self.called());
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
  EXPECT_TRUE(frame.expired());
}

TEST_F(Cycles, AHundredThousandDeepWaitingChainIsFreedInOnePass) {
  Token token;
  {
    Deferred bottom;
    bottom.addCallback(holding(token));
    Deferred next = bottom;
    for (int i = 0; i < 100000; ++i) {
      Deferred outer;
      outer.addCallback([next](Value) { return next; });
      outer.callback(Value(i));
      next = outer;
    }
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
}

TEST_F(Cycles, ADeferredChainedToItselfIsFreedAndStillRaisesAlreadyCalled) {
  Token token;
  bool alreadyCalled = false;
  {
    Deferred d;
    d.chainDeferred(d);
    d.addErrback([&, keep = token.strong](Failure f) {
      alreadyCalled = f.check<deferred::AlreadyCalledError>().has_value();
      return Value();
    });
  }
  token.strong.reset();
  EXPECT_TRUE(token.freed());
  Deferred fired;
  fired.chainDeferred(fired);
  fired.addErrback([&](Failure f) {
    alreadyCalled = f.check<deferred::AlreadyCalledError>().has_value();
    return Value();
  });
  fired.callback(Value(1));
  EXPECT_TRUE(alreadyCalled);
}

}  // namespace

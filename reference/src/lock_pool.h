// DeferredSemaphore's shared state, shared with the cycle collector in
// deferred.cpp (a semaphore's queue holds its waiting acquire()s, and a
// Deferred's result or a DeferredList's record may hold the semaphore).
// Private to the library.
#pragma once

#include <deque>
#include <memory>

#include "deferred/lock.h"

namespace deferred::detail {

// Twisted's _ConcurrencyPrimitive state: free tokens and FIFO waiters.
struct TokenPool {
  int tokens;
  int limit;
  bool lock;  // a DeferredLock: acquire() fires with a DeferredLock
  std::deque<Deferred> waiting;
};

// The step run() adds to the function's Deferred (Twisted's
// _releaseAndReturn): gives the token back once that Deferred has a result,
// and passes the result on. A type of its own so that the cycle collector
// can follow `pool`.
struct ReleaseAfter {
  std::shared_ptr<TokenPool> pool;
  Value operator()(Value result) const;
};

struct LockAccess {
  // What acquire() fires with: a new handle on `pool`.
  static Value holder(std::shared_ptr<TokenPool> pool) {
    DeferredSemaphore semaphore(std::move(pool));
    if (semaphore.pool_->lock) return Value(DeferredLock(semaphore));
    return Value(std::move(semaphore));
  }

  // The semaphore (or lock) `v` holds, or null.
  static const std::shared_ptr<TokenPool>* heldPool(const Value& v) noexcept {
    if (const DeferredSemaphore* s = v.getIf<DeferredSemaphore>()) return &s->pool_;
    if (const DeferredLock* l = v.getIf<DeferredLock>()) return &l->pool_;
    return nullptr;
  }
};

}  // namespace deferred::detail

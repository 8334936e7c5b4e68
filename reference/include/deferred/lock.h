// deferred/lock.h -- mutual exclusion for Deferred-based code: DeferredLock
// and DeferredSemaphore, with Twisted 22.4's semantics.
//
//   deferred::DeferredLock lock;
//   lock.run(writeFile, path);   // calls writeFile(path) once the lock is
//                                // free; unlocks when its Deferred fires
//
// Both are handles: copies refer to the same lock. acquire() returns a
// Deferred that fires with the lock (a DeferredLock, or a DeferredSemaphore)
// once it is the caller's: at once if it is free, otherwise when a release()
// hands it over. Waiters are served first in, first out, and each is fired
// inside the release() that serves it (its handlers run before release()
// returns). Cancelling a waiting acquire() removes it from the queue and
// fails it with CancelledError; cancelling one that has fired does nothing
// (the caller holds the lock and must release it).
//
// Ownership: the lock holds its waiting acquire() Deferreds (as Twisted's
// `waiting` list); a waiter does not hold the lock, so a lock nobody holds
// any more goes with its waiters (their handlers never run). run() keeps the
// lock alive until the function's Deferred has fired and released it. The
// lock as a result (what acquire() fires with) held by something a waiter
// holds, such as a DeferredList over the waiter, is a cycle the library frees
// once nothing else holds it; a handler on a waiting acquire() that captures
// the lock is one it cannot see, which leaks if the lock is never released.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "deferred/deferred.h"

namespace deferred {

namespace detail {
struct TokenPool;
struct LockAccess;
}  // namespace detail

// Twisted's DeferredSemaphore: at most `limit()` holders at a time.
class DeferredSemaphore {
public:
  // A semaphore with `tokens` tokens, all free. Throws std::invalid_argument
  // if tokens < 1 (Twisted's ValueError).
  explicit DeferredSemaphore(int tokens);

  // Handles: copies refer to the same semaphore.
  DeferredSemaphore(const DeferredSemaphore&) = default;
  DeferredSemaphore(DeferredSemaphore&&) noexcept = default;
  DeferredSemaphore& operator=(DeferredSemaphore other) noexcept {
    pool_.swap(other.pool_);  // the old one goes with `other`, checked as a drop
    return *this;
  }
  ~DeferredSemaphore();

  // A Deferred that fires with this semaphore once a token is the caller's:
  // at once if one is free (tokens() decreases), else on a later release().
  Deferred acquire();

  // Gives a token back: if acquire()s are waiting, the first one gets it
  // (tokens() stays the same) and fires now. Throws std::logic_error,
  // changing nothing, if every token is already free (Twisted asserts:
  // "released too many times").
  void release();

  // Twisted's run(f, *args): acquire(), then, once the token is the
  // caller's, f(args...) as maybeDeferred() (a returned Deferred is waited
  // for; a throw becomes a Failure), then release() once that Deferred has a
  // result, whatever it is. Returns the acquire() Deferred, which ends up
  // with f's result (or the Failure of a release() that threw). Cancelling it
  // while it waits for the token leaves the queue without calling f.
  // f and args are stored by value (decayed) and passed as lvalues.
  template <class F, class... Args>
  Deferred run(F&& f, Args&&... args);

  int tokens() const noexcept;           // free tokens (Twisted's `tokens`)
  int limit() const noexcept;            // the tokens it was made with
  std::size_t waiting() const noexcept;  // acquire()s not yet served

  // Identity: both handles refer to the same semaphore (or lock).
  bool sameAs(const DeferredSemaphore& other) const noexcept { return pool_ == other.pool_; }

protected:
  friend class DeferredLock;
  friend struct detail::LockAccess;
  explicit DeferredSemaphore(std::shared_ptr<detail::TokenPool> pool) noexcept
      : pool_(std::move(pool)) {}
  std::shared_ptr<detail::TokenPool> pool_;
};

// Twisted's DeferredLock: one holder at a time. A DeferredSemaphore with one
// token (so also usable as one), whose acquire() fires with the DeferredLock.
class DeferredLock : public DeferredSemaphore {
public:
  // An unlocked lock.
  DeferredLock();

  // A Deferred that fires with this lock once the caller holds it: at once if
  // it is unlocked (it becomes locked), else on a later release().
  Deferred acquire();

  // Unlocks; if acquire()s are waiting, the first one gets the lock (it
  // stays locked) and fires now. Throws std::logic_error, changing nothing,
  // if the lock is not locked (Twisted asserts: "Tried to release an
  // unlocked lock").
  void release();

  // run() (inherited): as DeferredSemaphore::run, under this lock.

  // Twisted's `locked`.
  bool locked() const noexcept { return tokens() == 0; }

private:
  friend class DeferredSemaphore;
  friend struct detail::LockAccess;
  explicit DeferredLock(const DeferredSemaphore& same) noexcept : DeferredSemaphore(same.pool_) {}
};

}  // namespace deferred

#include "deferred/detail/lock-inl.h"

// deferred/lock.h -- mutual exclusion for Deferred-based code: DeferredLock
// and DeferredSemaphore, with Twisted 22.4's semantics.
//
//   deferred::DeferredLock lock;
//   lock.run([] { return writeFile(); });   // runs once the lock is free,
//                                           // releases when writeFile's Deferred fires
//
// Both are handles: copies refer to the same lock. acquire() returns a
// Deferred that fires with the lock (or semaphore) itself once it is the
// caller's; waiters are served first in, first out. Cancelling a waiting
// acquire() removes it from the queue (it errbacks with CancelledError).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "deferred/deferred.h"

namespace deferred {

namespace detail {
struct TokenPool;
}  // namespace detail

// Twisted's DeferredSemaphore: at most `tokens` holders at a time.
class DeferredSemaphore {
public:
  // Throws std::invalid_argument if tokens < 1 (Twisted's ValueError).
  explicit DeferredSemaphore(int tokens);

  // A Deferred that fires with this semaphore once a token is the caller's:
  // at once if one is free, else when release() hands one over.
  Deferred acquire();

  // Returns a token: the first waiter gets it (its acquire() fires now,
  // running its handlers before release() returns). Throws
  // std::logic_error if no token is held (Twisted asserts).
  void release();

  // acquire(), then f(args...) (as maybeDeferred), then release() once the
  // Deferred f returned has a result. Returns a Deferred with f's result.
  template <class F, class... Args>
  Deferred run(F&& f, Args&&... args);

  int tokens() const noexcept;       // free tokens
  int limit() const noexcept;        // the tokens it was made with
  std::size_t waiting() const noexcept;  // acquire()s not yet served

  bool sameAs(const DeferredSemaphore& other) const noexcept { return pool_ == other.pool_; }

protected:
  friend class DeferredLock;
  explicit DeferredSemaphore(std::shared_ptr<detail::TokenPool> pool) noexcept
      : pool_(std::move(pool)) {}
  // What acquire() fires with: this DeferredLock or DeferredSemaphore.
  Value holder() const;
  std::shared_ptr<detail::TokenPool> pool_;
};

// Twisted's DeferredLock: a semaphore with one token, whose acquire() fires
// with the DeferredLock.
class DeferredLock : public DeferredSemaphore {
public:
  DeferredLock();

  // A Deferred that fires with this lock once the caller holds it.
  Deferred acquire();

  // Unlocks; the first waiter gets the lock. Throws std::logic_error if
  // the lock is not locked (Twisted asserts).
  void release();

  template <class F, class... Args>
  Deferred run(F&& f, Args&&... args);

  bool locked() const noexcept { return tokens() == 0; }

private:
  friend class DeferredSemaphore;
  explicit DeferredLock(const DeferredSemaphore& same) noexcept : DeferredSemaphore(same.pool_) {}
};

// --- Implementation -------------------------------------------------------------

namespace detail {
// d.addBoth(release owner, pass the result on); returns d.
Deferred releaseWhenDone(Deferred d, DeferredSemaphore owner);
}  // namespace detail

template <class F, class... Args>
Deferred DeferredSemaphore::run(F&& f, Args&&... args) {
  DeferredSemaphore self = *this;
  return acquire().addCallback(
      [self, f = std::forward<F>(f),
       ... args = std::forward<Args>(args)](Value) mutable {
        return detail::releaseWhenDone(maybeDeferred(f, args...), self);
      });
}

template <class F, class... Args>
Deferred DeferredLock::run(F&& f, Args&&... args) {
  DeferredLock self = *this;
  return acquire().addCallback(
      [self, f = std::forward<F>(f),
       ... args = std::forward<Args>(args)](Value) mutable {
        return detail::releaseWhenDone(maybeDeferred(f, args...), self);
      });
}

}  // namespace deferred

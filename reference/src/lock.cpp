#include "deferred/lock.h"

#include <algorithm>
#include <deque>
#include <stdexcept>

namespace deferred {

namespace detail {

// Twisted's _ConcurrencyPrimitive state: free tokens and FIFO waiters.
struct TokenPool {
  int tokens;
  int limit;
  bool lock;
  std::deque<Deferred> waiting;
};

namespace {

// A waiter's canceller: leave the queue. Weak, so that a waiting Deferred
// does not keep the pool (which holds it) alive.
struct LeaveQueue {
  std::weak_ptr<TokenPool> pool;
  void operator()(Deferred& d) const {
    if (auto p = pool.lock()) {
      auto it = std::find(p->waiting.begin(), p->waiting.end(), d);
      if (it != p->waiting.end()) p->waiting.erase(it);
    }
  }
};

// acquire(): `holder` is what the Deferred fires with (the lock or semaphore).
Deferred acquireFrom(const std::shared_ptr<TokenPool>& pool, Value holder) {
  Deferred d(LeaveQueue{pool});
  if (pool->tokens == 0) {
    pool->waiting.push_back(d);
  } else {
    --pool->tokens;
    d.callback(std::move(holder));
  }
  return d;
}

void releaseTo(TokenPool& pool, Value holder) {
  if (pool.tokens >= pool.limit) {
    throw std::logic_error(pool.lock ? "release() of an unlocked DeferredLock"
                                     : "DeferredSemaphore released too many times");
  }
  ++pool.tokens;
  if (!pool.waiting.empty()) {
    --pool.tokens;
    Deferred next = std::move(pool.waiting.front());
    pool.waiting.pop_front();
    next.callback(std::move(holder));
  }
}

}  // namespace

Deferred releaseWhenDone(Deferred d, DeferredSemaphore owner) {
  d.addBoth([owner](Value result) mutable {
    owner.release();
    return result;
  });
  return d;
}

}  // namespace detail

DeferredSemaphore::DeferredSemaphore(int tokens) {
  if (tokens < 1) throw std::invalid_argument("DeferredSemaphore requires tokens >= 1");
  pool_ = std::make_shared<detail::TokenPool>(detail::TokenPool{tokens, tokens, false, {}});
}

Value DeferredSemaphore::holder() const {
  if (pool_->lock) return Value(DeferredLock(*this));
  return Value(*this);
}

Deferred DeferredSemaphore::acquire() { return detail::acquireFrom(pool_, holder()); }

void DeferredSemaphore::release() { detail::releaseTo(*pool_, holder()); }

int DeferredSemaphore::tokens() const noexcept { return pool_->tokens; }
int DeferredSemaphore::limit() const noexcept { return pool_->limit; }
std::size_t DeferredSemaphore::waiting() const noexcept { return pool_->waiting.size(); }

DeferredLock::DeferredLock()
    : DeferredSemaphore(std::make_shared<detail::TokenPool>(detail::TokenPool{1, 1, true, {}})) {}

Deferred DeferredLock::acquire() { return DeferredSemaphore::acquire(); }

void DeferredLock::release() { DeferredSemaphore::release(); }

}  // namespace deferred

#include "deferred/lock.h"

#include "line_holder.h"
#include "lock_pool.h"

#include <deque>
#include <stdexcept>

namespace deferred {

namespace detail {

namespace {

Deferred acquireFrom(const std::shared_ptr<TokenPool>& pool) {
  Deferred d(LeaveLine<TokenPool>{pool});
  if (pool->tokens == 0) {
    pool->waiting.push_back(d);
    DeferredAccess::state(d)->heldInQueue = true;
  } else {
    --pool->tokens;
    d.callback(LockAccess::holder(pool));
  }
  return d;
}

void releaseTo(const std::shared_ptr<TokenPool>& pool) {
  TokenPool& p = *pool;
  if (p.tokens >= p.limit) {
    throw std::logic_error(p.lock ? "Tried to release an unlocked lock"
                                  : "Someone released me too many times: too many tokens!");
  }
  ++p.tokens;
  if (!p.waiting.empty()) {
    --p.tokens;
    Deferred next = std::move(p.waiting.front());
    p.waiting.pop_front();
    DeferredAccess::state(next)->heldInQueue = false;
    next.callback(LockAccess::holder(pool));
  }
}

}  // namespace

Deferred releaseWhenDone(Deferred d, const std::weak_ptr<TokenPool>& pool) {
  std::shared_ptr<TokenPool> p = pool.lock();  // alive: whoever fired the acquire() holds it
  d.addBoth(ReleaseAfter{std::move(p)});
  return d;
}

Value ReleaseAfter::operator()(Value result) const {
  releaseTo(pool);
  return result;
}

}  // namespace detail

DeferredSemaphore::DeferredSemaphore(int tokens) {
  if (tokens < 1) throw std::invalid_argument("DeferredSemaphore requires tokens >= 1");
  pool_ = std::make_shared<detail::TokenPool>(detail::TokenPool{tokens, tokens, false, {}});
}

DeferredSemaphore::~DeferredSemaphore() { detail::dropLineHolder(pool_, &detail::TokenPool::waiting); }

Deferred DeferredSemaphore::acquire() { return detail::acquireFrom(pool_); }

void DeferredSemaphore::release() { detail::releaseTo(pool_); }

int DeferredSemaphore::tokens() const noexcept { return pool_->tokens; }
int DeferredSemaphore::limit() const noexcept { return pool_->limit; }
std::size_t DeferredSemaphore::waiting() const noexcept { return pool_->waiting.size(); }

DeferredLock::DeferredLock()
    : DeferredSemaphore(std::make_shared<detail::TokenPool>(detail::TokenPool{1, 1, true, {}})) {}

Deferred DeferredLock::acquire() { return DeferredSemaphore::acquire(); }

void DeferredLock::release() { DeferredSemaphore::release(); }

}  // namespace deferred

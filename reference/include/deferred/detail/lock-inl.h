// Implementation details of deferred/lock.h. Not part of the public API.
#pragma once

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace deferred::detail {

// maybeDeferred(f)'s Deferred, with a last step that releases `pool` (still
// alive: the release() that served the waiter, or run() itself, holds it)
// and passes the result on (Twisted's _releaseAndReturn).
Deferred releaseWhenDone(Deferred d, const std::weak_ptr<TokenPool>& pool);

// The step run() adds to its acquire(): Twisted's `execute`. Holds the lock
// weakly, because the lock holds the waiting acquire() and so this step.
template <class F, class... Args>
struct RunUnderLock {
  std::weak_ptr<TokenPool> pool;
  F function;
  std::tuple<Args...> args;

  Deferred operator()() {
    return releaseWhenDone(
        std::apply([this](Args&... a) { return maybeDeferred(function, a...); }, args),
        pool);
  }
};

}  // namespace deferred::detail

namespace deferred {

template <class F, class... Args>
Deferred DeferredSemaphore::run(F&& f, Args&&... args) {
  return acquire().addCallback(
      detail::RunUnderLock<std::decay_t<F>, std::decay_t<Args>...>{
          pool_, std::forward<F>(f), {std::forward<Args>(args)...}});
}

}  // namespace deferred

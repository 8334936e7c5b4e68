// deferred/coroutine.h -- C++20 coroutines over Deferreds, with the
// semantics of Twisted 22.4's ensureDeferred (async def + await).
//
// A function whose return type is deferred::Deferred and that uses co_await
// or co_return is a coroutine. It starts at once and runs until it awaits a
// Deferred that has no result yet; its Deferred fires with what it
// co_returns, or fails with what escapes it:
//
//   deferred::Deferred fetchBoth() {
//     deferred::Value a = co_await fetchA();    // a value, or the failure thrown
//     try {
//       co_await fetchB();
//     } catch (const std::runtime_error& e) {   // the original exception type
//       co_return std::string("b failed: ") + e.what();
//     }
//     co_return a;                              // co_return deferred::Value() for null
//   }
//
// `co_await d`:
//  - d has a result and is not paused: does not suspend. The value is
//    returned as a copy (d keeps its result, as in Twisted; a value that
//    cannot be copied is moved out, leaving null); a Failure is thrown (the
//    original exception, also catchable as deferred::Failure via
//    Failure::current()) and no longer counts as unhandled in d.
//  - otherwise: suspends, adding one step to d; when d's result arrives that
//    step resumes the coroutine with it, and d continues with null (the
//    result is consumed).
// Loops awaiting fired Deferreds, or Deferreds fired later from outside,
// run in constant stack.
//
// Cancelling the coroutine's Deferred while the coroutine is suspended
// cancels the Deferred it awaits; the outcome (normally CancelledError) is
// delivered at the await, and the coroutine's own result becomes its
// Deferred's. (Twisted chains the coroutine's Deferred to a fresh internal
// one meanwhile; here it simply stays pending until the coroutine ends.)
// Once the coroutine has ended, cancel() does nothing.
//
// Ownership: while suspended, the coroutine's frame is owned by the step it
// added to the awaited Deferred. If that Deferred is destroyed without a
// result, the frame is destroyed (locals released) and the coroutine's
// Deferred stays pending. A frame that holds the only reference to the
// Deferred it awaits is a cycle and leaks, as a waiting pair does.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "deferred/deferred.h"

namespace deferred {

namespace detail {

// What the coroutine's Deferred needs to reach while the frame lives.
struct CoroutineStatus {
  std::optional<WeakDeferred> awaiting;  // weak: no cycle through the frame
};

class ResumeCoroutine;

class CoroutinePromise {
public:
  CoroutinePromise();

  Deferred get_return_object() const noexcept { return deferred_; }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }

  // Fires the coroutine's Deferred (AlreadyCalledError if it was fired by
  // hand: it goes to whoever resumed the coroutine).
  void return_value(Value value) { deferred_.callback(std::move(value)); }
  void unhandled_exception();

  CoroutineStatus& status() noexcept { return *status_; }

private:
  std::shared_ptr<CoroutineStatus> status_;
  Deferred deferred_;
};

class DeferredAwaiter {
public:
  explicit DeferredAwaiter(Deferred awaited) noexcept : awaited_(std::move(awaited)) {}

  bool await_ready() const noexcept {
    return awaited_->hasResult() && awaited_->paused() == 0;
  }
  // Adds the resuming step; false (resume at once) if it already ran.
  bool await_suspend(std::coroutine_handle<CoroutinePromise> coroutine);
  // The value, or throws the Failure.
  Value await_resume();

private:
  friend class ResumeCoroutine;
  std::optional<Deferred> awaited_;  // released while suspended
  std::optional<Value> delivered_;   // set by the resuming step
  bool suspended_ = false;
};

}  // namespace detail

// Awaiting a Deferred inside a coroutine that returns a Deferred.
inline detail::DeferredAwaiter operator co_await(Deferred d) noexcept {
  return detail::DeferredAwaiter(std::move(d));
}

}  // namespace deferred

template <class... Args>
struct std::coroutine_traits<deferred::Deferred, Args...> {
  using promise_type = deferred::detail::CoroutinePromise;
};

// Implementation details of deferred/coroutine.h. Not part of the public API.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace deferred::detail {

// Twisted's _CancellationStatus: what the coroutine fires when it ends (its
// Deferred, or after cancel() the internal Deferred its Deferred waits on),
// and the Deferred it last suspended on (weak: the frame must not be kept
// alive through it).
struct CoroutineStatus {
  std::optional<Deferred> deferred;
  std::optional<WeakDeferred> waitingOn;
  bool cancelled = false;  // deferred is an internal one, made by cancel()
};

class CoroutinePromise {
public:
  CoroutinePromise();
  CoroutinePromise(const CoroutinePromise&) = delete;
  CoroutinePromise& operator=(const CoroutinePromise&) = delete;
  // The frame is destroyed before the coroutine ended (the Deferred it
  // awaited went without a result): after a cancel(), the internal Deferred
  // the coroutine's Deferred waits on fails with CancelledError (no one else
  // can fire it, and the two would hold each other forever), unless nothing
  // waits on it any more (both are being freed as garbage).
  ~CoroutinePromise();

  Deferred get_return_object() const noexcept { return *status_->deferred; }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }

  // Fires status.deferred (AlreadyCalledError, if it was fired by hand, goes
  // to whoever resumed the coroutine, as in Twisted; during the run up to
  // its first suspension there is none: it goes to the error-log sink).
  void return_value(Value value);
  void unhandled_exception();

  CoroutineStatus& status() noexcept { return *status_; }

  // While a resuming step runs the coroutine: where an exception firing
  // status.deferred goes (the step rethrows it once the body has run).
  std::exception_ptr* resumerError = nullptr;

private:
  std::shared_ptr<CoroutineStatus> status_;  // weakly shared with cancel()
  bool ended_ = false;
};

using CoroutineHandle = std::coroutine_handle<CoroutinePromise>;

// Makes the null `result` the result of an await that did not suspend, when
// it is not simply a trivially copyable value: a Failure (thrown, and no
// longer unhandled in `awaited`), a handler of `awaited` running, a value
// that cannot be copied.
void takeReadyResultSlow(DeferredState* awaited, Value& result);

class DeferredAwaiter {
public:
  explicit DeferredAwaiter(const Deferred& borrowed) noexcept
      : awaited_(DeferredAccess::state(borrowed)) {}
  explicit DeferredAwaiter(Deferred&& owned) noexcept
      : awaited_(DeferredAccess::take(std::move(owned))), owned_(true) {}
  // Lives where it was made (the frame): the resuming step points at it.
  DeferredAwaiter(const DeferredAwaiter&) = delete;
  DeferredAwaiter& operator=(const DeferredAwaiter&) = delete;
  ~DeferredAwaiter() {
    if (owned_) releaseState(awaited_);
  }

  // Twisted's Deferred.send(): a result, and not paused (waiting counts).
  bool await_ready() const noexcept {
    return awaited_->called && awaited_->kind != ResultKind::Deferred &&
           awaited_->paused == 0;
  }

  // Adds the resuming step (which now owns the frame) and lets go of the
  // awaited Deferred. False (go on at once) if the step already ran.
  bool await_suspend(CoroutineHandle coroutine);

  Value await_resume() {
    if (resumed_) return takeDelivered();
    return takeReady();
  }

protected:
  friend class ResumeCoroutine;

  Value takeReady() {
    Value result;  // the only object returned: built in place
    // Inline only for what a memcpy copies (ints, pointers...).
    if (awaited_->kind != ResultKind::Value || awaited_->running ||
        !ValueAccess::copyTrivially(awaited_->value, result)) [[unlikely]] {
      takeReadyResultSlow(awaited_, result);
    }
    return result;
  }

  Value takeDelivered() {
    Value result = std::move(delivered_);
    if (ValueAccess::special(result) == kValueSpecialTag<Failure>) {
      ValueAccess::unchecked<Failure>(result).raise();
    }
    return result;
  }

  // Ready path of as<T>: the value as a T, without a Value copy. A value of
  // another type stays in the awaited Deferred.
  template <class T>
  T takeReadyAs() {
    DeferredState* s = awaited_;
    if (s->kind == ResultKind::Value && !s->running) [[likely]] {
      if constexpr (std::is_copy_constructible_v<T>) {
        if (const T* value = s->value.template getIf<T>()) return *value;
      }
      if (!s->value.template is<T>()) (void)s->value.template get<T>();  // throws
    }
    Value result;
    takeReadyResultSlow(s, result);
    return std::move(result.template get<T>());
  }

  DeferredState* awaited_;
  bool owned_ = false;      // holds a reference (an rvalue's), until suspension
  bool suspended_ = false;  // the step owns the frame
  bool resumed_ = false;    // the step ran and delivered_ is set
  Value delivered_;         // what the resuming step received
};

template <class T>
class TypedAwaiter : public DeferredAwaiter {
public:
  using DeferredAwaiter::DeferredAwaiter;

  T await_resume() {
    if (resumed_) return std::move(takeDelivered().template get<T>());
    return takeReadyAs<T>();
  }
};

}  // namespace deferred::detail

namespace deferred {

template <class T>
detail::TypedAwaiter<T> as(Deferred&& d) noexcept {
  return detail::TypedAwaiter<T>(std::move(d));
}
template <class T>
detail::TypedAwaiter<T> as(const Deferred& d) noexcept {
  return detail::TypedAwaiter<T>(d);
}

inline detail::DeferredAwaiter operator co_await(Deferred&& d) noexcept {
  return detail::DeferredAwaiter(std::move(d));
}
inline detail::DeferredAwaiter operator co_await(const Deferred& d) noexcept {
  return detail::DeferredAwaiter(d);
}

}  // namespace deferred

template <class... Args>
struct std::coroutine_traits<deferred::Deferred, Args...> {
  using promise_type = deferred::detail::CoroutinePromise;
};

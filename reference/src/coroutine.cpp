#include "deferred/coroutine.h"

namespace deferred::detail {

namespace {

// The coroutine's Deferred's canceller: cancel what the coroutine awaits
// (which resumes it with the outcome). Weak: the Deferred must not keep the
// frame alive.
struct CancelAwaited {
  std::weak_ptr<CoroutineStatus> status;
  void operator()(Deferred&) const {
    std::shared_ptr<CoroutineStatus> s = status.lock();
    if (!s || !s->awaiting) return;
    if (std::optional<Deferred> awaited = s->awaiting->lock()) awaited->cancel();
  }
};

}  // namespace

// The step a suspended coroutine adds to the Deferred it awaits. It owns the
// frame until it resumes it: destroyed without running, it destroys the frame.
// Two pointers wide, so that it is stored without an allocation.
class ResumeCoroutine {
public:
  ResumeCoroutine(std::coroutine_handle<CoroutinePromise> frame,
                  DeferredAwaiter* awaiter) noexcept
      : frame_(frame), awaiter_(awaiter) {}
  ResumeCoroutine(ResumeCoroutine&& other) noexcept
      : frame_(std::exchange(other.frame_, nullptr)), awaiter_(other.awaiter_) {}
  ResumeCoroutine(const ResumeCoroutine&) = delete;
  ResumeCoroutine& operator=(const ResumeCoroutine&) = delete;
  ResumeCoroutine& operator=(ResumeCoroutine&&) = delete;
  ~ResumeCoroutine() {
    if (frame_) frame_.destroy();
  }

  // Twisted's gotResult: hands the result to the coroutine, runs it to its
  // next suspension or its end, and leaves null behind.
  void operator()(Value&& result) {
    std::coroutine_handle<CoroutinePromise> frame = std::exchange(frame_, nullptr);
    awaiter_->delivered_.emplace(std::move(result));  // the awaiter lives in the frame
    if (!awaiter_->suspended_) return;  // ran inside await_suspend
    frame.promise().status().awaiting.reset();
    frame.resume();
  }

private:
  std::coroutine_handle<CoroutinePromise> frame_;
  DeferredAwaiter* awaiter_;
};

CoroutinePromise::CoroutinePromise()
    : status_(std::make_shared<CoroutineStatus>()),
      deferred_(CancelAwaited{status_}) {
  DeferredAccess::cancellerIsCancel(deferred_, /*onlyWhilePending=*/false);
}

void CoroutinePromise::unhandled_exception() {
  if (deferred_.called()) throw;  // to whoever resumed the coroutine
  deferred_.errback(Failure::current());
}

bool DeferredAwaiter::await_suspend(std::coroutine_handle<CoroutinePromise> coroutine) {
  awaited_->addBoth(ResumeCoroutine(coroutine, this));
  if (delivered_) return false;  // the step ran already: go on at once
  suspended_ = true;
  coroutine.promise().status().awaiting.emplace(*awaited_);
  // The frame must not hold the awaited Deferred, which holds the frame.
  awaited_.reset();
  return true;
}

Value DeferredAwaiter::await_resume() {
  if (delivered_) {
    Value result = std::move(*delivered_);
    delivered_.reset();
    if (const Failure* failure = result.getIf<Failure>()) failure->raise();
    return result;
  }
  // Not suspended: the awaited Deferred keeps its result, as in Twisted.
  Deferred& awaited = *awaited_;
  if (const Failure* failure = awaited.failure()) {
    DeferredAccess::markFailureHandled(awaited);
    failure->raise();
  }
  try {
    return awaited.result().copy();
  } catch (const TypeMismatchError&) {
    return std::move(DeferredAccess::value(awaited));
  }
}

}  // namespace deferred::detail

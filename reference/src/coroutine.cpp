#include "deferred/coroutine.h"

#include "coroutine_step.h"

#include <exception>
#include <memory>
#include <utility>

namespace deferred::detail {

namespace {

// What cancel() puts on a coroutine's Deferred so that its first step,
// HandleCancel, takes over (Twisted's _InternalInlineCallbacksCancelledError).
// That step never lets it through.
class CoroutineCancelled : public Error {
public:
  CoroutineCancelled() : Error("coroutine cancelled (internal)") {}
};

Deferred makeStatusDeferred(const std::shared_ptr<CoroutineStatus>& status);

// Tells the cycle collector whether the frame holding `status`, suspended,
// holds the Deferred the coroutine fires.
void markHeldBySuspendedFrame(CoroutineStatus& status, bool held) noexcept {
  if (status.deferred) DeferredAccess::state(*status.deferred)->heldBySuspendedFrame = held;
}

// The first step of every Deferred a coroutine fires (Twisted prepends it at
// cancel() time; here it is added first when the Deferred is made, which
// puts it at the same place). On CoroutineCancelled it is Twisted's
// handleCancel: from now on the coroutine fires a fresh internal Deferred,
// the awaited Deferred is cancelled, and this chain waits on the internal
// one. Any other Failure passes through unchanged. Weak: the Deferred must
// not keep the frame alive.
struct HandleCancel {
  std::weak_ptr<CoroutineStatus> status;

  Value operator()(const Failure& failure) const {
    if (!failure.check<CoroutineCancelled>()) return Value(failure);
    std::shared_ptr<CoroutineStatus> s = status.lock();
    // The frame was destroyed (the Deferred it awaited went without a
    // result): nothing will ever fire this Deferred but this.
    if (!s) return Value(Failure(CancelledError()));
    Deferred internal = makeStatusDeferred(s);
    const bool held = DeferredAccess::state(*s->deferred)->heldBySuspendedFrame;
    markHeldBySuspendedFrame(*s, false);
    s->deferred = internal;
    markHeldBySuspendedFrame(*s, held);  // the frame holds the internal one now
    s->cancelled = true;
    // The Deferred the coroutine last suspended on. None before its first
    // suspension, which Twisted asserts cannot be (the scenario fuzzer found
    // a cancel coming back through a fellow coroutine's failure): nothing to
    // cancel then. Gone only while it is being destroyed with its steps, this
    // frame's among them (a handler cancelling from there): then the
    // frame's end fails `internal`.
    if (!s->waitingOn) return Value(std::move(internal));
    if (std::optional<Deferred> awaited = s->waitingOn->lock()) awaited->cancel();
    return Value(std::move(internal));
  }
};

// Twisted's `cancel(it)` canceller of _cancellableInlineCallbacks.
void raiseCoroutineCancelled(Deferred& it) { it.errback(CoroutineCancelled()); }

Deferred makeStatusDeferred(const std::shared_ptr<CoroutineStatus>& status) {
  Deferred d(&raiseCoroutineCancelled);
  d.addErrback(HandleCancel{status});
  return d;
}

}  // namespace

// The step a suspended coroutine adds to the Deferred it awaits (Twisted's
// gotResult). Until it runs it owns the frame: destroyed without running, it
// destroys the frame. Two pointers wide: stored without an allocation.
class ResumeCoroutine {
public:
  ResumeCoroutine(CoroutineHandle frame, DeferredAwaiter* awaiter) noexcept
      : frame_(frame), awaiter_(awaiter) {}
  ResumeCoroutine(ResumeCoroutine&& other) noexcept
      : frame_(std::exchange(other.frame_, nullptr)), awaiter_(other.awaiter_) {}
  ResumeCoroutine(const ResumeCoroutine&) = delete;
  ResumeCoroutine& operator=(const ResumeCoroutine&) = delete;
  ResumeCoroutine& operator=(ResumeCoroutine&&) = delete;

  ~ResumeCoroutine() {
    // Never ran, and the coroutine is suspended on it (not: adding the step
    // failed while the coroutine runs): the frame goes with the step. The
    // awaiter lives in that frame, so it is valid here.
    if (frame_ && awaiter_->suspended_) {
      markHeldBySuspendedFrame(frame_.promise().status(), false);
      frame_.destroy();
    }
  }

  // The coroutine's own Deferred while this step holds the suspended frame.
  DeferredState* frameDeferred() const noexcept {
    if (!frame_ || !awaiter_->suspended_) return nullptr;
    const std::optional<Deferred>& d = frame_.promise().status().deferred;
    return d ? DeferredAccess::state(*d) : nullptr;
  }

  // Takes the result (the chain continues with null) and runs the coroutine
  // to its next suspension or its end.
  void operator()(Value result) {
    CoroutineHandle frame = std::exchange(frame_, nullptr);
    DeferredAwaiter& awaiter = *awaiter_;
    awaiter.delivered_ = std::move(result);
    awaiter.resumed_ = true;
    if (!awaiter.suspended_) return;  // ran inside await_suspend: goes on by itself
    markHeldBySuspendedFrame(frame.promise().status(), false);  // running now
    std::exception_ptr firingError;  // outlives the frame, which may end
    frame.promise().resumerError = &firingError;
    frame.resume();  // nothing escapes the body (see unhandled_exception)
    if (firingError) std::rethrow_exception(firingError);
  }

private:
  CoroutineHandle frame_;
  DeferredAwaiter* awaiter_;
};

CoroutinePromise::CoroutinePromise() : status_(std::make_shared<CoroutineStatus>()) {
  status_->deferred.emplace(makeStatusDeferred(status_));
}

CoroutinePromise::~CoroutinePromise() {
  if (ended_ || !status_->cancelled) return;
  Deferred target = *status_->deferred;
  // Nothing waits on it any more when the cycle collector is freeing the
  // coroutine's Deferred with this frame: firing it would only report a
  // CancelledError nobody can see (Twisted's collector reports nothing).
  if (target.called() || DeferredAccess::state(target)->waiters == 0) return;
  try {
    target.errback(CancelledError());
  } catch (...) {
    // Out of memory making the Failure: nothing better to do here.
  }
}

void CoroutinePromise::return_value(Value value) {
  ended_ = true;
  Deferred target = *status_->deferred;
  target.callback(std::move(value));
}

void CoroutinePromise::unhandled_exception() {
  ended_ = true;
  Deferred target = *status_->deferred;
  try {
    target.errback(Failure::current());
  } catch (...) {
    // Fired by hand (AlreadyCalledError, here or from return_value): it goes
    // to the resumer, not out of here. An exception leaving
    // unhandled_exception() ends the coroutine at its final suspend point,
    // which clang miscompiles (llvm-project#61900: its locals are destroyed
    // twice); the body ends normally instead.
    if (resumerError != nullptr) {
      if (!*resumerError) *resumerError = std::current_exception();
    } else {
      logError("Exception raised firing a coroutine's Deferred", Failure::current());
    }
  }
}

bool DeferredAwaiter::await_suspend(CoroutineHandle coroutine) {
  Deferred awaited = DeferredAccess::handle(awaited_);
  awaited.addBoth(ResumeCoroutine(coroutine, this));
  if (resumed_) return false;
  suspended_ = true;
  coroutine.promise().resumerError = nullptr;  // its resumer's frame is gone by the next run
  markHeldBySuspendedFrame(coroutine.promise().status(), true);
  std::optional<WeakDeferred>& waitingOn = coroutine.promise().status().waitingOn;
  waitingOn.reset();
  waitingOn.emplace(awaited);
  if (std::exchange(owned_, false)) {
    releaseState(awaited_);  // the frame must not hold the Deferred that holds it
  }
  return true;
  // `awaited` goes last: if it was the only handle left, the Deferred, its
  // step and this frame are destroyed here (the coroutine never resumes).
}

DeferredState* suspendedCoroutineDeferred(Handler& step) noexcept {
  using Adapter = HandlerAdapter<ResumeCoroutine, Sees::both>;
  if (!step.holds<Adapter>()) return nullptr;
  return step.target<Adapter>()->handler.frameDeferred();
}

void takeReadyResultSlow(DeferredState* s, Value& result) {
  if (s->running) {
    // A handler of `awaited` is running with its result; Twisted gives the
    // await the same object, as it gives a Deferred returned by the handler.
    if (s->argumentOwnedByHandler) {
      throw TypeMismatchError(
          "the awaited Deferred's result belongs to a handler of it that is "
          "running and took it by value (the coroutine resumed by it, if it "
          "awaits it again)");
    }
    if (s->inFlight != nullptr) {
      result = s->inFlight->copy();
      if (const Failure* failure = result.getIf<Failure>()) failure->raise();
      return;
    }
    // Otherwise the handler reads the result in place: it is still there.
  }
  if (s->kind == ResultKind::Failure) {
    s->failureRecorded = false;  // awaited: no longer unhandled
    Failure failure = s->failure;
    failure.raise();
  }
  try {
    result = s->value.copy();
  } catch (const TypeMismatchError&) {
    result = std::move(s->value);  // not copyable: moved out, null left
  }
}

}  // namespace deferred::detail

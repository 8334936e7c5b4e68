// Implementation details of deferred::Deferred. Not part of the public API.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "deferred/detail/function-inl.h"
#include "deferred/detail/mutants.h"

namespace deferred::detail {

// --- Shared state -----------------------------------------------------------

enum class ResultKind : unsigned char { None, Value, Failure, Deferred };

using Handler = SmallFunction<void(DeferredState&)>;

// One callback/errback pair. An empty half passes the result on. `both`:
// the callback half is used on both paths (addBoth stores its handler once).
struct Step {
  Handler callback;
  Handler errback;
  bool both = false;
};

// The steps of a chain: a queue that never moves its elements (so a handler
// can run in place while more steps are appended). The first kInline steps
// live inside the Deferred's own allocation; further ones in chunks of
// growing size. Consumed chunks are freed as the cursor leaves them.
class StepQueue {
public:
  StepQueue() noexcept = default;
  StepQueue(const StepQueue&) = delete;
  StepQueue& operator=(const StepQueue&) = delete;
  ~StepQueue() { clear(); }

  void push(Step&& step) {
    if (tail_->count == tail_->capacity) grow();
    ::new (static_cast<void*>(tail_->steps + tail_->count)) Step(std::move(step));
    ++tail_->count;
    ++pending_;
  }

  // Appends an empty step (pass-through on both paths) to fill in place.
  Step& emplace() {
    if (tail_->count == tail_->capacity) grow();
    Step* step = ::new (static_cast<void*>(tail_->steps + tail_->count)) Step();
    ++tail_->count;
    ++pending_;
    return *step;
  }
  // Removes the step emplace() just added (filling it failed).
  void unemplace() noexcept {
    --tail_->count;
    --pending_;
    finish(tail_->steps + tail_->count);
  }

  // The next step, now counted as taken; nullptr if none is left. The caller
  // destroys it with finish() when done with it.
  Step* take() noexcept {
    while (readIndex_ == readChunk_->count) {
      if (readChunk_ == tail_) return nullptr;
      Chunk* next = readChunk_->next;
      if (readChunk_ != &first_) ::operator delete(readChunk_);
      readChunk_ = next;
      readIndex_ = 0;
    }
    --pending_;
    return readChunk_->steps + readIndex_++;
  }
  static void finish(Step* step) noexcept { step->~Step(); }

  std::size_t size() const noexcept { return pending_; }

  // Calls f(step) for each step not taken yet, in order.
  template <class F>
  void forEachPending(F&& f) {
    for (Chunk* c = readChunk_; c != nullptr; c = c->next) {
      for (std::uint32_t i = c == readChunk_ ? readIndex_ : 0; i < c->count; ++i)
        f(c->steps[i]);
    }
  }

  // Once everything was taken: return to the inline storage.
  void resetIfDrained() noexcept {
    if (pending_ != 0) return;
    if (tail_ != &first_) {
      clear();
    } else {  // no chunk to free
      first_.count = 0;
      readIndex_ = 0;
    }
  }

  // Destroys the steps not taken yet and frees all chunks.
  void clear() noexcept {
    while (Step* step = take()) finish(step);
    if (readChunk_ != &first_) ::operator delete(readChunk_);
    first_.next = nullptr;
    first_.count = 0;
    tail_ = readChunk_ = &first_;
    readIndex_ = 0;
  }

private:
  static constexpr std::uint32_t kInline = 2;
  static constexpr std::uint32_t kMaxChunk = 4096;
  struct Chunk {
    Chunk* next;
    Step* steps;
    std::uint32_t capacity;
    std::uint32_t count;
  };

  void grow() {
    std::uint32_t capacity =
        tail_ == &first_ ? 8 : std::min(tail_->capacity * 2, kMaxChunk);
    void* memory = ::operator new(sizeof(Chunk) + capacity * sizeof(Step));
    Chunk* chunk = ::new (memory) Chunk{
        nullptr, reinterpret_cast<Step*>(static_cast<Chunk*>(memory) + 1),
        capacity, 0};
    tail_->next = chunk;
    tail_ = chunk;
  }

  alignas(Step) unsigned char inline_[kInline * sizeof(Step)];
  Chunk first_{nullptr, reinterpret_cast<Step*>(inline_), kInline, 0};
  Chunk* tail_ = &first_;
  Chunk* readChunk_ = &first_;
  std::uint32_t readIndex_ = 0;
  std::size_t pending_ = 0;
};

// Drop a strong / a weak reference (defined below DeferredState).
inline void releaseState(DeferredState* state) noexcept;
inline void releaseWeak(DeferredState* state) noexcept;
// Hands `failure` to the error-log sink (see deferred::setErrorLogSink).
void logError(std::string_view context, const Failure& failure) noexcept;
Failure mismatchFailure(const std::type_info& expected,
                        const DeferredState& state);

// Debug mode's record of a Deferred's origin (see deferred::setDebugging).
struct DebugInfo {
  std::source_location created;
  std::source_location fired;
  bool hasCreated = false;  // made while debug mode was on
  bool hasFired = false;    // first fired while debug mode was on
  std::string describe() const;
};

// The single heap allocation behind a Deferred (intrusive reference count).
struct DeferredState {
  unsigned strong = 1;  // Deferred handles, chain runner, continuations
  unsigned weak = 0;    // chainedTo pointers: keep the memory, not the object
  unsigned waiters = 0;  // Continuation steps in `steps`: Deferreds waiting on this one
  // Continuation steps (of other Deferreds) holding this one: the one it
  // waits on, and any it stopped waiting on when unpaused by hand.
  unsigned heldByContinuations = 0;
  unsigned chainedFrom = 0;  // chainDeferred() halves (of other Deferreds) holding this one
  int paused = 0;
  ResultKind kind = ResultKind::None;
  bool called = false;
  bool running = false;  // a handler of this Deferred is executing
  bool suppressAlreadyCalled = false;
  // cancel() while pending only calls the canceller (no CancelledError);
  // once called, `pendingOnlyCancel` makes cancel() do nothing at all.
  bool cancellerIsCancel = false;  // DeferredList
  bool pendingOnlyCancel = false;  // DeferredList
  bool isList = false;             // a DeferredList: its ListState holds it
  bool failureRecorded = false;  // Twisted's DebugInfo.failResult is set
  bool dead = false;             // strong reached zero
  // The Deferred of a coroutine suspended on another Deferred: the frame,
  // owned by that Deferred's resuming step, holds this one.
  bool heldBySuspendedFrame = false;
  bool heldInQueue = false;  // a get() or acquire() waiting in its queue's or semaphore's line
  bool cancelling = false;  // its canceller is running (cancel() re-entered does nothing)
  Value value;
  Failure failure;
  // While a handler runs, where its argument is, so that a Deferred taking
  // this one's result meanwhile can copy it (Twisted hands both the same
  // object): `inFlight` when the result was moved into a Value for it; gone
  // when the handler took it by value (it owns it now).
  Value* inFlight = nullptr;
  bool argumentOwnedByHandler = false;
  DeferredState* inner = nullptr;      // owning; set when kind == Deferred
  DeferredState* chainedTo = nullptr;  // weak
  StepQueue steps;
  SmallFunction<void(Deferred&)> canceller;
  std::unique_ptr<DebugInfo> debug;  // debug mode only

  void dropInner() noexcept {
    if (inner != nullptr) releaseState(std::exchange(inner, nullptr));
  }
  void dropOldResult() noexcept {
    if (kind == ResultKind::Failure) failure.data_.reset();
    if (kind == ResultKind::Deferred) dropInner();
  }

  void clearResult() noexcept {
    value.reset();
    failure.data_.reset();
    dropInner();
  }

  void setNull() noexcept {
    dropOldResult();
    value.reset();
    kind = ResultKind::Value;
  }
  void setFailure(Failure&& f) noexcept {
    Failure keep(std::move(f));  // may alias `failure`
    value.reset();
    dropInner();
    failure = std::move(keep);
    kind = ResultKind::Failure;
  }
  void setDeferred(DeferredState* adopted) noexcept {
    value.reset();
    if (kind == ResultKind::Failure) failure.data_.reset();
    DeferredState* old = std::exchange(inner, adopted);
    kind = ResultKind::Deferred;
    if (old != nullptr) releaseState(old);
  }
  // A Value from a handler or callback(): Failures and Deferreds inside it
  // are recognised.
  void setValue(Value&& v) noexcept {
    switch (ValueAccess::special(v)) {
      case 1:
        setFailure(std::move(ValueAccess::unchecked<Failure>(v)));
        return;
      case 2: {
        Deferred d(std::move(ValueAccess::unchecked<Deferred>(v)));
        setDeferred(std::exchange(d.state_, nullptr));
        return;
      }
      default: {
        // The hot paths: nothing to drop (None: the first result).
        if (kind == ResultKind::Value || kind == ResultKind::None) {
          value = std::move(v);
          kind = ResultKind::Value;
          return;
        }
        Value keep(std::move(v));  // may live in the result being dropped
        dropOldResult();
        value = std::move(keep);
        kind = ResultKind::Value;
      }
    }
  }

  // A Value a handler returned straight into `value` (which its argument had
  // left null): as setValue(), without moving it. Inlined into each Value
  // handler's call.
  [[gnu::always_inline]] void adoptValue() noexcept {
    switch (ValueAccess::special(value)) {
      case 1:
        setFailure(std::move(ValueAccess::unchecked<Failure>(value)));
        return;
      case 2: {
        Deferred d(std::move(ValueAccess::unchecked<Deferred>(value)));
        setDeferred(std::exchange(d.state_, nullptr));
        return;
      }
      default:
        if (kind != ResultKind::Value) {  // an errback's Value: recovered
          dropOldResult();
          kind = ResultKind::Value;
        }
    }
  }

  // Stores what a handler returned (R is the handler's return type).
  template <class R, class Arg>
  void setReturn(Arg&& returned) {
    using D = std::remove_cvref_t<R>;
    if constexpr (std::is_same_v<D, Failure>) {
      setFailure(Failure(std::forward<Arg>(returned)));
    } else if constexpr (std::is_same_v<D, Deferred>) {
      Deferred d(std::forward<Arg>(returned));
      setDeferred(std::exchange(d.state_, nullptr));
    } else if constexpr (std::is_same_v<D, Value>) {
      if constexpr (std::is_same_v<Arg, Value>) {
        setValue(std::move(returned));  // no temporary: it is ours already
      } else {
        setValue(Value(std::forward<Arg>(returned)));
      }
    } else if constexpr (std::is_reference_v<R>) {
      // May refer into the current value: copy it out first.
      Value keep(std::forward<Arg>(returned));
      dropOldResult();
      value = std::move(keep);
      kind = ResultKind::Value;
    } else {
      dropOldResult();
      value.template emplace<StoredType<D>>(std::forward<Arg>(returned));
      kind = ResultKind::Value;
    }
  }

  // The current result as a Value (a Failure is wrapped in one).
  Value takeAsValue() noexcept {
    if (kind == ResultKind::Failure) return Value(std::move(failure));
    return std::move(value);
  }
};

inline void retain(DeferredState* state) noexcept { ++state->strong; }

// Linked to other Deferreds by waiting, chainDeferred, a DeferredList, a
// suspended coroutine's frame, a semaphore's or queue's line: a release may leave it
// in a cycle that only such links keep alive.
inline bool mayBeInCycle(const DeferredState* state) noexcept {
  return state->waiters != 0 || state->kind == ResultKind::Deferred ||
         state->heldByContinuations != 0 ||
         state->chainedFrom != 0 || state->isList || state->heldBySuspendedFrame ||
         state->heldInQueue;
}

// Has the cycle collector look at `state`, which may have become garbage in
// a cycle of links without a reference to it being dropped.
void suspectCycle(DeferredState* state) noexcept;

// The rest of releaseState() (src/deferred.cpp): the last reference went, or
// the state may be in a cycle.
void settleRelease(DeferredState* state) noexcept;

// Drops a strong reference. Most releases only count: the call out of line
// is for those with something to do.
inline void releaseState(DeferredState* state) noexcept {
  if (--state->strong != 0 && !mayBeInCycle(state)) return;
  settleRelease(state);
}

// Deletes a dead state that nothing refers to any more.
void freeState(DeferredState* state) noexcept;

// Drops a weak reference: the memory of a dead state goes with the last one.
inline void releaseWeak(DeferredState* state) noexcept {
  if (--state->weak == 0 && state->dead) freeState(state);
}

// The runner behind Twisted's _runCallbacks (see src/deferred.cpp).
void runCallbacks(DeferredState* state);

// Marker step appended to an inner Deferred: "give your result to chainee"
// (Twisted's _CONTINUE). Owns a reference to the waiting Deferred.
struct Continuation {
  DeferredState* chainee;
  explicit Continuation(DeferredState* waiting) noexcept : chainee(waiting) {
    retain(waiting);
    ++waiting->heldByContinuations;
  }
  // Takes the reference on `chainee` out of the step (null once taken).
  DeferredState* release() noexcept {
    if (chainee != nullptr) --chainee->heldByContinuations;
    return std::exchange(chainee, nullptr);
  }
  Continuation(Continuation&& other) noexcept
      : chainee(std::exchange(other.chainee, nullptr)) {}
  Continuation& operator=(Continuation&&) = delete;
  ~Continuation() {
    if (DeferredState* waiting = release()) releaseState(waiting);
  }
  void operator()(DeferredState&) noexcept {}  // never called
};

// --- Handler signatures -----------------------------------------------------

struct NoParam {};

template <class... A>
struct ArgList {
  static constexpr std::size_t arity = sizeof...(A);
  template <std::size_t I>
  using At = std::tuple_element_t<I, std::tuple<A...>>;
  static constexpr bool known = true;
};

template <class F, class = void>
struct FunctionTraits {
  static constexpr bool known = false;
};
template <class R, class... A>
struct FunctionTraits<R (*)(A...), void> : ArgList<A...> {};
template <class R, class... A>
struct FunctionTraits<R (*)(A...) noexcept, void> : ArgList<A...> {};

template <class M>
struct MemberTraits {
  static constexpr bool known = false;
};
#define DEFERRED_MEMBER_TRAITS(QUALIFIERS)                     \
  template <class C, class R, class... A>                      \
  struct MemberTraits<R (C::*)(A...) QUALIFIERS> : ArgList<A...> {};
DEFERRED_MEMBER_TRAITS()
DEFERRED_MEMBER_TRAITS(const)
DEFERRED_MEMBER_TRAITS(noexcept)
DEFERRED_MEMBER_TRAITS(const noexcept)
DEFERRED_MEMBER_TRAITS(&)
DEFERRED_MEMBER_TRAITS(const&)
#undef DEFERRED_MEMBER_TRAITS

template <class F>
struct FunctionTraits<F, std::void_t<decltype(&F::operator())>>
    : MemberTraits<decltype(&F::operator())> {};

template <class>
inline constexpr bool kAlwaysFalse = false;

// How the handler F (called with `extra...` after the result) takes the
// result: its declared first parameter type, NoParam, or Value&& for
// generic callables.
template <class F, class... Extra>
constexpr auto resultParameter() {
  using Traits = FunctionTraits<F>;
  if constexpr (Traits::known) {
    if constexpr (Traits::arity == sizeof...(Extra) + 1) {
      return std::type_identity<typename Traits::template At<0>>{};
    } else if constexpr (Traits::arity == sizeof...(Extra)) {
      return std::type_identity<NoParam>{};
    } else {
      static_assert(kAlwaysFalse<F>,
                    "a handler takes the result (optionally) followed by "
                    "the extra arguments");
      return std::type_identity<NoParam>{};
    }
  } else if constexpr (std::is_invocable_v<F&, Value&&, Extra&...>) {
    return std::type_identity<Value&&>{};
  } else if constexpr (std::is_invocable_v<F&, Extra&...>) {
    return std::type_identity<NoParam>{};
  } else {
    static_assert(kAlwaysFalse<F>,
                  "handler is not callable with the result and the extra "
                  "arguments");
    return std::type_identity<NoParam>{};
  }
}

template <class F, class... Extra>
using ResultParameter = typename decltype(resultParameter<F, Extra...>())::type;

// Handler with bound extra arguments (see deferred::withArgs).
template <class F, class... Extra>
struct Bound {
  F function;
  std::tuple<Extra...> extra;
};

template <class H>
struct HandlerCall {
  using Parameter = ResultParameter<H>;
  template <class... A>
  static decltype(auto) call(H& handler, A&&... result) {
    return std::invoke(handler, std::forward<A>(result)...);
  }
};

template <class F, class... Extra>
struct HandlerCall<Bound<F, Extra...>> {
  using Parameter = ResultParameter<F, Extra...>;
  template <class... A>
  static decltype(auto) call(Bound<F, Extra...>& bound, A&&... result) {
#if defined(DEFERRED_MUTANTS)
    if constexpr ((std::is_default_constructible_v<Extra> && ...)) {
      if (DEFERRED_MUTANT("extra-args-dropped")) {
        std::tuple<Extra...> dropped{};
        return std::apply(
            [&](Extra&... extra) -> decltype(auto) {
              return std::invoke(bound.function, std::forward<A>(result)...,
                                 extra...);
            },
            dropped);
      }
    }
#endif
    return std::apply(
        [&](Extra&... extra) -> decltype(auto) {
          return std::invoke(bound.function, std::forward<A>(result)...,
                             extra...);
        },
        bound.extra);
  }
};

// Passes `object` as parameter type P (lvalue for lvalue references, rvalue
// otherwise).
template <class P, class T>
constexpr decltype(auto) forwardAs(T& object) noexcept {
  if constexpr (std::is_lvalue_reference_v<P>) {
    return (object);
  } else {
    return std::move(object);
  }
}

template <class Invoke>
void deliver(DeferredState& state, Invoke&& invoke) {
  using R = decltype(invoke());
  if constexpr (std::is_void_v<R>) {
    invoke();
    state.setNull();
  } else {
    state.setReturn<R>(invoke());
  }
}

// deliver() for a handler whose argument was moved out of `state.value`: a
// Value it returns is built in that slot, not moved there.
template <class Invoke>
void deliverIntoEmptySlot(DeferredState& state, Invoke&& invoke) {
  if constexpr (std::is_same_v<decltype(invoke()), Value>) {
    // The null Value there ends without its (empty) destructor; if the
    // handler throws, a null one takes its place again.
    struct RefillOnThrow {
      Value* slot;
      ~RefillOnThrow() {
        if (slot != nullptr) ::new (static_cast<void*>(slot)) Value();
      }
    } refill{&state.value};
    ::new (static_cast<void*>(&state.value)) Value(invoke());
    refill.slot = nullptr;
    state.adoptValue();
  } else {
    deliver(state, std::forward<Invoke>(invoke));
  }
}

struct FailureCapture {
  static void current(DeferredState& state, const std::exception& error);
  static void currentUnknown(DeferredState& state);
};

// Publishes where a handler's argument is for the duration of the call.
struct InFlight {
  DeferredState& state;
  InFlight(DeferredState& s, Value* argument, bool owned) noexcept : state(s) {
    state.inFlight = argument;
    state.argumentOwnedByHandler = owned;
  }
  ~InFlight() {
    state.inFlight = nullptr;
    state.argumentOwnedByHandler = false;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
};

// The results a handler slot runs with: a step's callback half only sees
// values (unless it is addBoth's), its errback half only Failures.
// runHandler compiles only the paths its slot can take.
enum class Sees : unsigned char { values, failures, both };

// Runs one handler against the current result and stores what it returns
// or throws. Only the handler's own throw costs an exception.
template <Sees kSees, class H>
void runHandler(H& handler, DeferredState& state) {
  using Call = HandlerCall<H>;
  using P = typename Call::Parameter;
  using D = std::remove_cvref_t<P>;
  try {
    if constexpr (std::is_same_v<P, NoParam>) {
      deliver(state, [&]() -> decltype(auto) { return Call::call(handler); });
    } else if constexpr (std::is_same_v<P, Value>) {
      // Taken by value: the handler owns the result; move it straight in.
      InFlight guard{state, nullptr, true};
      if constexpr (kSees == Sees::values) {
        deliverIntoEmptySlot(state, [&]() -> decltype(auto) {
          return Call::call(handler, std::move(state.value));
        });
      } else if constexpr (kSees == Sees::failures) {
        deliverIntoEmptySlot(state, [&]() -> decltype(auto) {
          return Call::call(handler, Value(std::move(state.failure)));
        });
      } else if (state.kind == ResultKind::Value) {
        deliverIntoEmptySlot(state, [&]() -> decltype(auto) {
          return Call::call(handler, std::move(state.value));
        });
      } else {
        deliverIntoEmptySlot(state, [&]() -> decltype(auto) {
          return Call::call(handler, Value(std::move(state.failure)));
        });
      }
    } else if constexpr (std::is_same_v<D, Value>) {
      Value argument = state.takeAsValue();
      InFlight guard{state, &argument, !std::is_reference_v<P>};
      deliverIntoEmptySlot(state, [&]() -> decltype(auto) {
        return Call::call(handler, forwardAs<P>(argument));
      });
    } else if constexpr (std::is_same_v<D, Failure>) {
      if constexpr (kSees == Sees::values) {
        state.setFailure(mismatchFailure(typeid(Failure), state));
        return;
      } else if constexpr (kSees == Sees::both) {
        if (state.kind != ResultKind::Failure) {
          state.setFailure(mismatchFailure(typeid(Failure), state));
          return;
        }
      }
      InFlight guard{state, nullptr, !std::is_reference_v<P>};
      deliver(state, [&]() -> decltype(auto) {
        return Call::call(handler, forwardAs<P>(state.failure));
      });
    } else if constexpr (kSees == Sees::failures) {
      // An errback typed for a value: the result is a Failure.
      state.setFailure(mismatchFailure(typeid(D), state));
    } else {
      D* argument = kSees == Sees::values || state.kind == ResultKind::Value
                        ? state.value.template getIf<D>()
                        : nullptr;
      if (argument == nullptr) {
        state.setFailure(mismatchFailure(typeid(D), state));
        return;
      }
      InFlight guard{state, nullptr, !std::is_reference_v<P>};
      deliver(state, [&]() -> decltype(auto) {
        return Call::call(handler, forwardAs<P>(*argument));
      });
    }
  } catch (Failure& thrown) {
    state.setFailure(std::move(thrown));
  } catch (const std::exception& error) {
    FailureCapture::current(state, error);
  } catch (...) {
    FailureCapture::currentUnknown(state);
  }
}

template <class H, Sees kSees>
struct HandlerAdapter {
  H handler;
  void operator()(DeferredState& state) { runHandler<kSees>(handler, state); }
};

template <Sees kSees, class H>
void setHandler(Handler& slot, H&& handler) {
  using D = std::decay_t<H>;
  if constexpr (!std::is_same_v<D, PassThrough>) {
    slot.emplace(HandlerAdapter<D, kSees>{std::forward<H>(handler)});
  }
}

// Builds the step in place at the end of the queue (no moves of handlers).
// kCallback: what the callback half sees (Sees::both for addBoth, whose
// `both` only the addboth-success-only mutant turns off).
template <Sees kCallback, class Callback, class Errback>
Step& emplaceStep(StepQueue& steps, Callback&& callback, Errback&& errback,
                  bool both = kCallback == Sees::both) {
  Step& step = steps.emplace();
  try {
    setHandler<kCallback>(step.callback, std::forward<Callback>(callback));
    setHandler<Sees::failures>(step.errback, std::forward<Errback>(errback));
  } catch (...) {
    steps.unemplace();
    throw;
  }
  step.both = kCallback == Sees::both && both;
  return step;
}

Deferred deferredFromValue(Value&& value);

// Library-internal access to a Deferred's state (DeferredList and friends).
struct DeferredAccess {
  static DeferredState* state(const Deferred& d) noexcept { return d.state_; }
  // A new handle on a live state (adds a reference).
  static Deferred handle(DeferredState* state) noexcept {
    retain(state);
    return Deferred(Deferred::Adopt{}, state);
  }
  // The handle's reference, now the caller's (to release with releaseState).
  static DeferredState* take(Deferred&& d) noexcept {
    return std::exchange(d.state_, nullptr);
  }
  // cancel() on `d` while it has no result will only call its canceller
  // (DeferredList's cancels the members); with `onlyWhilePending`, cancel()
  // after that does nothing at all (DeferredList.cancel overrides so).
  // `d` is a DeferredList's Deferred (held by its ListState).
  static void markList(Deferred& d) noexcept { d.state_->isList = true; }
  static void cancellerIsCancel(Deferred& d, bool onlyWhilePending) noexcept {
    d.state_->cancellerIsCancel = true;
    d.state_->pendingOnlyCancel = onlyWhilePending;
  }
  // Appends a step run on both paths whose handler works on the state
  // itself (reads the result in place, may change it; it must turn its own
  // errors into the result, as runHandler does), and runs it at once if `d`
  // has a result, as add* do. `d` is a handle: the Deferred changes, not the
  // handle.
  template <class H>
  static void addStateStep(const Deferred& d, H&& handler) {
    static_assert(Handler::fitsInline<std::decay_t<H>>(), "stored without an allocation");
    Step& step = d.state_->steps.emplace();
    step.callback.emplace(std::forward<H>(handler));
    step.both = true;
    const_cast<Deferred&>(d).stepAdded();
  }
};

// A non-owning reference to a Deferred: keeps the memory, not the Deferred.
class WeakDeferred {
public:
  explicit WeakDeferred(const Deferred& d) noexcept
      : state_(DeferredAccess::state(d)) {
    ++state_->weak;
  }
  WeakDeferred(WeakDeferred&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)) {}
  WeakDeferred(const WeakDeferred&) = delete;
  WeakDeferred& operator=(const WeakDeferred&) = delete;
  WeakDeferred& operator=(WeakDeferred&&) = delete;
  ~WeakDeferred() {
    if (state_ != nullptr) releaseWeak(state_);
  }
  // The Deferred, if it still exists.
  std::optional<Deferred> lock() const noexcept {
    if (state_->dead) return std::nullopt;
    return DeferredAccess::handle(state_);
  }
  // Its state, if it still exists, without taking a reference.
  DeferredState* peek() const noexcept { return state_->dead ? nullptr : state_; }

private:
  DeferredState* state_;
};

}  // namespace deferred::detail

namespace deferred {

template <class F, class... Args>
detail::Bound<std::decay_t<F>, std::decay_t<Args>...> withArgs(
    F&& f, Args&&... args) {
  return {std::forward<F>(f), {std::forward<Args>(args)...}};
}

template <class Canceller>
  requires std::is_invocable_v<std::decay_t<Canceller>&, Deferred&>
Deferred::Deferred(Canceller&& canceller, std::source_location where)
    : Deferred(where) {
  state_->canceller =
      detail::SmallFunction<void(Deferred&)>(std::forward<Canceller>(canceller));
}

inline Deferred::Deferred(const Deferred& other) noexcept
    : state_(other.state_) {
  if (state_ != nullptr) detail::retain(state_);
}

inline Deferred::Deferred(Deferred&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

inline Deferred& Deferred::operator=(const Deferred& other) noexcept {
  if (other.state_ != nullptr) detail::retain(other.state_);
  detail::DeferredState* old = std::exchange(state_, other.state_);
  if (old != nullptr) detail::releaseState(old);
  return *this;
}

inline Deferred& Deferred::operator=(Deferred&& other) noexcept {
  if (this != &other) {
    detail::DeferredState* old =
        std::exchange(state_, std::exchange(other.state_, nullptr));
    if (old != nullptr) detail::releaseState(old);
  }
  return *this;
}

inline Deferred::~Deferred() {
  if (state_ != nullptr) detail::releaseState(state_);
}

inline Deferred& Deferred::stepAdded() {
  if (state_->called && !DEFERRED_MUTANT("late-add-not-run")) {
    detail::runCallbacks(state_);
  }
  return *this;
}

template <class Callback, class Errback>
Deferred& Deferred::addCallbacks(Callback&& callback, Errback&& errback) {
#if defined(DEFERRED_MUTANTS)
  if (DEFERRED_MUTANT("addcallbacks-as-pair")) {
    detail::emplaceStep<detail::Sees::values>(
        state_->steps, std::forward<Callback>(callback), passthru);
    detail::emplaceStep<detail::Sees::values>(
        state_->steps, passthru, std::forward<Errback>(errback));
    return stepAdded();
  }
#endif
  detail::emplaceStep<detail::Sees::values>(state_->steps,
                                            std::forward<Callback>(callback),
                                            std::forward<Errback>(errback));
  return stepAdded();
}

template <class Callback, class... Extra>
Deferred& Deferred::addCallback(Callback&& callback, Extra&&... extra) {
  if constexpr (sizeof...(Extra) == 0) {
    return addCallbacks(std::forward<Callback>(callback), passthru);
  } else {
    return addCallbacks(withArgs(std::forward<Callback>(callback),
                                 std::forward<Extra>(extra)...),
                        passthru);
  }
}

template <class Errback, class... Extra>
Deferred& Deferred::addErrback(Errback&& errback, Extra&&... extra) {
  if constexpr (sizeof...(Extra) == 0) {
    return addCallbacks(passthru, std::forward<Errback>(errback));
  } else {
    return addCallbacks(passthru, withArgs(std::forward<Errback>(errback),
                                           std::forward<Extra>(extra)...));
  }
}

template <class Handler, class... Extra>
Deferred& Deferred::addBoth(Handler&& handler, Extra&&... extra) {
  if constexpr (sizeof...(Extra) == 0) {
    detail::emplaceStep<detail::Sees::both>(
        state_->steps, std::forward<Handler>(handler), passthru,
        !DEFERRED_MUTANT("addboth-success-only"));
  } else {
    detail::emplaceStep<detail::Sees::both>(
        state_->steps,
        withArgs(std::forward<Handler>(handler), std::forward<Extra>(extra)...),
        passthru, !DEFERRED_MUTANT("addboth-success-only"));
  }
  return stepAdded();
}

template <class F, class... Args>
Deferred maybeDeferred(F&& f, Args&&... args) {
  using R = std::invoke_result_t<F, Args...>;
  using D = std::remove_cvref_t<R>;
  try {
    if constexpr (std::is_void_v<R>) {
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
      return succeed();
    } else if constexpr (std::is_same_v<D, Deferred>) {
      return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    } else if constexpr (std::is_same_v<D, Failure>) {
      return fail(std::invoke(std::forward<F>(f), std::forward<Args>(args)...));
    } else {
      return detail::deferredFromValue(
          Value(std::invoke(std::forward<F>(f), std::forward<Args>(args)...)));
    }
  } catch (Failure& thrown) {
    return fail(std::move(thrown));
  } catch (const std::exception& error) {
    return fail(detail::FailureAccess::fromCaught(error));
  } catch (...) {
    return fail(detail::FailureAccess::fromCaughtUnknown());
  }
}

}  // namespace deferred

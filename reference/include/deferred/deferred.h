// deferred -- Twisted's Deferred in C++20.
//
// A Deferred is a placeholder for a result that is not available yet, plus a
// chain of handlers that will process it in order. It encodes an order of
// execution separately from the order of lines of code:
//
//   deferred::Deferred d = podBayDoors.open();       // returns at once
//   d.addCallback([&](deferred::Value) { pod.launch(); });
//
// The semantics are Twisted 22.4's `twisted.internet.defer.Deferred`,
// exactly, including the order in which handlers run, how results and
// failures move between the success and error paths, chaining of Deferreds
// returned by handlers, pausing, cancellation and unhandled-error reporting.
// Where C++ forces a choice, the choice is documented next to the API.
//
// Results are dynamically typed (deferred::Value), as in Python; errors are
// deferred::Failure objects wrapping any C++ exception.
//
// Not thread-safe, like Twisted: a Deferred and everything chained to it
// must be used from one thread at a time. Different threads may use
// unrelated Deferreds.
//
// Cost model: a Deferred is one heap allocation (state, reference count and
// room for two steps). Longer chains add step chunks of growing size; steps
// never move once added. Handlers whose captures fit in two pointers, and
// values up to 32 bytes (ints, pointers, short strings, Failures), are
// stored without further allocation. Passing a Failure along the error path
// never throws. Running a chain, resolving nested Deferreds and destroying
// long chains are all iterative: stack depth does not grow with chain length.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "deferred/errors.h"
#include "deferred/failure.h"
#include "deferred/value.h"

namespace deferred {

class Deferred;

namespace detail {
struct DeferredState;
struct DeferredAccess;
struct Step;
template <class F, class... Extra>
struct Bound;
}  // namespace detail

// Handler placeholder that passes the result on unchanged (Twisted's
// passthru / _failthru). Use it for the unused half of addCallbacks():
//   d.addCallbacks(deferred::passthru, onError);
struct PassThrough {
  explicit constexpr PassThrough() = default;
};
inline constexpr PassThrough passthru{};

// Binds extra arguments to a handler: the handler is called as
// `f(result, args...)`. This is Twisted's callbackArgs/errbackArgs, and the
// way to give the two halves of addCallbacks() different extra arguments:
//   d.addCallbacks(deferred::withArgs(onValue, "a", 1),
//                  deferred::withArgs(onError, "b"));
// The arguments are stored by value (decayed) and passed as lvalues, so the
// handler may take them by value, by reference or by const reference.
template <class F, class... Args>
detail::Bound<std::decay_t<F>, std::decay_t<Args>...> withArgs(F&& f,
                                                               Args&&... args);

// --- Handlers -------------------------------------------------------------
//
// A handler is any callable. Its first parameter receives the current result:
//   T, const T&, T&&  the result as a T; a result of another type (or a
//                     Failure) becomes a Failure(TypeMismatchError) naming the
//                     expected and the actual type, and the handler is not run
//   Value, Value&&,   the result whatever it is; on the error path this is a
//   const Value&      Value holding the Failure (as in Python, where addBoth's
//                     function receives the Failure object)
//   Failure,          the current Failure (errbacks); a non-Failure result is
//   const Failure&    a TypeMismatchError
//   (no parameter)    the result is ignored (only when no extra arguments are
//                     bound, or the handler takes exactly the extra arguments)
// A generic lambda (`[](auto v)`) receives the Value.
//
// What the handler returns becomes the current result:
//   void              null (Twisted's None): an errback that returns nothing
//                     has handled the error
//   Failure           the error path
//   Deferred          the chain waits for that Deferred (see addCallbacks)
//   Value             taken as is; a Value holding a Failure or a Deferred
//                     counts as a Failure or a Deferred
//   anything else     that object (any movable type; char pointers become
//                     std::string)
// A handler that throws (anything: std::exception, `throw 42`, ...) puts the
// thrown exception on the error path as a Failure; a handler that throws a
// Failure (e.g. via Failure::trap) puts exactly that Failure there.
// Handlers are called at most once; they are destroyed (releasing their
// captures) as soon as their step of the chain has run.

class Deferred {
public:
  // --- Creating -----------------------------------------------------------

  // A new Deferred without a result (Twisted's Deferred()). `where` is
  // remembered in debug mode (see setDebugging); leave it defaulted.
  Deferred(std::source_location where = std::source_location::current());

  // A new Deferred whose cancel() calls `canceller(deferred)` first (if it
  // has no result yet). The canceller may fire the Deferred itself; if it
  // does not, cancel() then errbacks with CancelledError. The canceller is
  // owned by the Deferred: do not capture the Deferred in it (that would be
  // a reference cycle); use the argument instead.
  template <class Canceller>
    requires std::is_invocable_v<std::decay_t<Canceller>&, Deferred&>
  explicit Deferred(Canceller&& canceller,
                    std::source_location where = std::source_location::current());

  // A Deferred is a handle: copies refer to the same Deferred (reference
  // counted). A moved-from handle may only be destroyed or assigned to.
  Deferred(const Deferred& other) noexcept;
  Deferred(Deferred&& other) noexcept;
  Deferred& operator=(const Deferred& other) noexcept;
  Deferred& operator=(Deferred&& other) noexcept;
  // Dropping the last handle destroys the Deferred. If its current result is
  // a Failure that no errback handled, that Failure is reported to the
  // unhandled-error sink (see setUnhandledErrorSink). Destruction of long
  // chains of Deferreds is iterative (no deep recursion).
  ~Deferred();

  // --- Firing -------------------------------------------------------------

  // Gives the Deferred its result and runs the handlers added so far, in
  // order, before returning. A Value holding a Failure behaves as
  // errback(failure). Throws AlreadyCalledError if the Deferred already has
  // a result -- except once after cancel() on a Deferred without canceller,
  // where the late result of the real operation is silently dropped.
  // Throws NestedDeferredError if `result` is (or holds) a Deferred.
  // Nothing else escapes: exceptions thrown by handlers become Failures.
  // `where` is remembered in debug mode; leave it defaulted.
  void callback(Value result = Value(),
                std::source_location where = std::source_location::current());

  // Like callback(), but the result is a Failure: the error path runs.
  void errback(Failure failure,
               std::source_location where = std::source_location::current());

  // errback(Failure(error)) for an exception object: d.errback(MyError("x")).
  template <class E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, Failure>)
  void errback(E&& error,
               std::source_location where = std::source_location::current()) {
    errback(Failure(std::forward<E>(error)), where);
  }

  // errback(Failure::current()): call inside a catch block. Throws
  // NoCurrentExceptionError outside of one.
  void errback(std::source_location where = std::source_location::current());

  // --- Adding handlers ----------------------------------------------------
  //
  // Each add* call appends ONE step (a callback/errback pair) to the chain
  // and returns *this for chaining. A step's callback runs if the result is
  // a value, its errback if the result is a Failure; the other half is
  // skipped. If the Deferred already has a result (and is not paused or
  // waiting), the new step runs immediately, before the call returns. A
  // handler that adds handlers to its own Deferred does not recurse: the new
  // steps run later in the same pass, in order.
  //
  // A handler returning a Deferred `inner` pauses this chain until `inner`
  // has a result; then that result continues down this chain and `inner`'s
  // own result becomes null (consumed). While waiting, this Deferred holds
  // `inner` and `inner` holds this one (as in Twisted). When nothing but
  // such waiting links keeps a group of Deferreds alive (every handle
  // dropped, no handler capturing one), the group is destroyed at once, as
  // Python's garbage collector would; a handle captured by a handler still
  // counts. Returning the Deferred a handler is attached to gives a
  // Failure(SelfChainError).

  // `callback` handles a value, `errback` a Failure. What `callback` throws
  // is NOT seen by `errback` (it goes to the next step):
  //   d.addCallbacks(onValue, onError);      // try: ... except: ... else: ...
  // Either may be `passthru`. Use withArgs() to bind extra arguments.
  template <class Callback, class Errback>
  Deferred& addCallbacks(Callback&& callback, Errback&& errback);

  // Step whose callback is `callback(result, extra...)` and whose errback
  // passes the Failure on.
  template <class Callback, class... Extra>
  Deferred& addCallback(Callback&& callback, Extra&&... extra);

  // Step whose errback is `errback(failure, extra...)` and whose callback
  // passes the value on. addCallback(cb).addErrback(eb): eb also sees what
  // cb throws.
  template <class Errback, class... Extra>
  Deferred& addErrback(Errback&& errback, Extra&&... extra);

  // Step running `handler(result, extra...)` on both paths, like `finally`
  // (≡ addCallbacks(handler, handler); the handler is stored once). With a
  // Value parameter it receives the value or a Value holding the Failure.
  template <class Handler, class... Extra>
  Deferred& addBoth(Handler&& handler, Extra&&... extra);

  // Makes `other` participate in this chain: ≡
  // addCallbacks(other.callback, other.errback). This chain continues with
  // null afterwards (callback() returns nothing). other.chainedTo() reports
  // this Deferred until `other` runs its handlers.
  Deferred& chainDeferred(Deferred other);

  // --- Flow control -------------------------------------------------------

  // Stops handlers from running until a matching unpause(). Counted: two
  // pause() calls need two unpause() calls. Pausing from inside a handler
  // takes effect after the current pass (as in Twisted).
  void pause() noexcept;

  // Undoes one pause(); when the count reaches zero and the Deferred has a
  // result, the pending handlers run before unpause() returns. As in
  // Twisted, an unbalanced unpause() makes the count negative, which blocks
  // handlers just like a positive count.
  void unpause();

  // Cancels the operation behind this Deferred:
  //  - no result yet: calls the canceller (if any); if the Deferred still
  //    has no result, errbacks with CancelledError;
  //  - waiting on a Deferred returned by a handler: cancels that one;
  //  - otherwise: does nothing.
  // An exception thrown by the canceller propagates out of cancel() (as in
  // Twisted) and the Deferred is then left without a result. A cancel()
  // that reaches a Deferred whose canceller is already running (a member
  // waiting on its own DeferredList, a canceller cancelling its own
  // Deferred) does nothing there, and so does one forwarded around
  // Deferreds waiting on each other in a circle (a deadlock): Twisted
  // recurses until RecursionError.
  void cancel();

  // --- Inspection (for tests and diagnostics) -----------------------------

  // callback() or errback() has been called (Twisted's `called`).
  bool called() const noexcept;
  // Called and not waiting on another Deferred: result()/failure() is the
  // current result.
  bool hasResult() const noexcept;
  // The current result is a Failure.
  bool isFailure() const noexcept;
  // The chain is waiting on a Deferred returned by a handler.
  bool isWaiting() const noexcept;
  // The pause counter (Twisted's `paused`); waiting counts as one pause.
  int paused() const noexcept;
  // The current value; the null Value if there is no value (no result yet,
  // waiting, or a Failure).
  const Value& result() const noexcept;
  // The current Failure, or nullptr.
  const Failure* failure() const noexcept;
  // The Deferred this one is waiting on (the result is that Deferred).
  std::optional<Deferred> waitingOn() const;
  // Twisted's `_chainedTo`: the Deferred this one waits on, or the one it
  // was chainDeferred() to, until it next runs its handlers. Not owning:
  // empty if that Deferred no longer exists.
  std::optional<Deferred> chainedTo() const;
  // Number of steps added but not run yet.
  std::size_t pendingSteps() const noexcept;

  // Identity: true if both handles refer to the same Deferred.
  bool sameAs(const Deferred& other) const noexcept {
    return state_ == other.state_;
  }
  friend bool operator==(const Deferred& a, const Deferred& b) noexcept {
    return a.state_ == b.state_;
  }
  // Stable identity for printing and maps; nullptr for a moved-from handle.
  const void* id() const noexcept { return state_; }

private:
  friend struct detail::DeferredState;
  friend struct detail::DeferredAccess;
  struct Adopt {};
  Deferred(Adopt, detail::DeferredState* state) noexcept : state_(state) {}
  Deferred& stepAdded();
  void startRun(Value* value, Failure* failure, const std::source_location& where);

  detail::DeferredState* state_;
};

namespace detail {
template <>
inline constexpr unsigned char kValueSpecialTag<Deferred> = 2;
}  // namespace detail

// --- Helpers ----------------------------------------------------------------

// A Deferred that already has `result` (Twisted's succeed()).
Deferred succeed(Value result = Value(),
                 std::source_location where = std::source_location::current());

// A Deferred that already has `failure` (Twisted's fail()).
Deferred fail(Failure failure,
              std::source_location where = std::source_location::current());
template <class E>
  requires(!std::is_same_v<std::remove_cvref_t<E>, Failure>)
Deferred fail(E&& error, std::source_location where = std::source_location::current()) {
  return fail(Failure(std::forward<E>(error)), where);
}

// Calls `f(args...)` and always returns a Deferred: a returned Deferred as
// is, a returned Failure or thrown exception as a failed Deferred, anything
// else (void: null) as a fired one (Twisted's maybeDeferred()).
template <class F, class... Args>
Deferred maybeDeferred(F&& f, Args&&... args);

// Receives each Failure left unhandled in a Deferred when the Deferred is
// destroyed. The default sink prints
//   "Unhandled error in Deferred:\nFailure: <type>: <message>\n"
// to stderr. Process-wide; set it from one thread while no Deferred is being
// destroyed. Exceptions thrown by a sink are swallowed.
using UnhandledErrorSink = std::function<void(const Failure&)>;

// Installs `sink` (an empty function restores the default) and returns the
// previous sink.
UnhandledErrorSink setUnhandledErrorSink(UnhandledErrorSink sink);

// Receives the errors the library catches and can hand to no chain, which
// Twisted writes to its log: today, an exception thrown by a member's
// canceller while a DeferredList (or gatherResults) cancels its members.
// `context` says what happened ("Exception raised from user supplied
// canceller"). The default sink prints "<context>: <type>: <message>\n" to
// stderr. Process-wide, set like the unhandled-error sink; exceptions thrown
// by a sink are swallowed.
using ErrorLogSink =
    std::function<void(std::string_view context, const Failure& failure)>;

// Installs `sink` (an empty function restores the default) and returns the
// previous sink.
ErrorLogSink setErrorLogSink(ErrorLogSink sink);

// --- Debugging ----------------------------------------------------------------
//
// Debug mode (Twisted's setDebugging), a process-wide runtime switch: a
// Deferred made while it is on remembers where it was created, and one first
// fired (callback()/errback()) while it is on remembers where -- as Twisted
// records the creator and the first invoker. Locations are file:line and
// function (std::source_location: the default arguments of the constructor,
// callback(), errback(), succeed() and fail(); leave them defaulted). An
// AlreadyCalledError raised while it is on then says
//   "Deferred has already been called (created at F:L in FN; first fired at
//    F:L in FN); called again at F:L in FN"
// and the unhandled-error report names both (see unhandledErrorOrigin()).
// Off by default. Off, it costs one relaxed atomic load when a Deferred is
// made and one when it is fired; nothing per handler.
void setDebugging(bool on) noexcept;
bool debugging() noexcept;

// During a call of the unhandled-error sink: what debug mode recorded of the
// Deferred being reported ("created at F:L in FN; first fired at F:L in FN",
// or only the part that was recorded); empty if nothing was. The default
// sink prints it on a line of its own, in parentheses.
const std::string& unhandledErrorOrigin() noexcept;

}  // namespace deferred

#include "deferred/detail/deferred-inl.h"

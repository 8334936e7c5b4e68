// deferred/coroutine.h -- C++20 coroutines over Deferreds, with the
// semantics of Twisted 22.4's ensureDeferred / Deferred.fromCoroutine
// (`async def` + `await`).
//
// A function whose return type is deferred::Deferred and that uses co_await
// or co_return is a coroutine. Calling it runs the body at once, up to the
// first co_await of a Deferred that has no result yet, and returns the
// coroutine's Deferred; that Deferred fires with what the body co_returns,
// or fails with the exception that escapes it:
//
//   deferred::Deferred fetchBoth(deferred::Deferred a, deferred::Deferred b) {
//     deferred::Value first = co_await a;        // any result, as a Value
//     try {
//       int n = co_await deferred::as<int>(b);   // typed
//       co_return n + first.get<int>();
//     } catch (const std::runtime_error& e) {    // b's failure, as its own type
//       co_return std::string("b failed: ") + e.what();
//     }
//   }
//
// The body must end with a co_return (`co_return deferred::Value();` for
// null): as for any coroutine whose promise has return_value, flowing off
// its end is undefined behaviour.
#pragma once

#include <coroutine>
#include <optional>
#include <type_traits>

#include "deferred/deferred.h"

namespace deferred {

namespace detail {
class CoroutinePromise;
class DeferredAwaiter;
template <class T>
class TypedAwaiter;
}  // namespace detail

// --- Awaiting ----------------------------------------------------------------
//
// `co_await d` evaluates to d's result as a Value; `co_await as<T>(d)` to the
// result as a T, and throws TypeMismatchError (naming both types) at the
// co_await if the result is not exactly a T (as a typed handler would).
//
// A failure is thrown at the co_await: the wrapped exception itself, so it is
// caught by its own type (`catch (const std::invalid_argument&)`), or by
// `catch (...)` where Failure::current() gives it back as a Failure (one that
// wraps the same exception object). A non-exception thrown object (`throw
// 42`) is caught as that type.
//
// Exactly Twisted's rules for what happens to d:
//  - d has a result and is not paused (nor waiting on another Deferred): the
//    coroutine does not suspend. d keeps its result; the coroutine gets a
//    copy of the value (a value that cannot be copied is moved out, leaving
//    null in d). A Failure thrown this way no longer counts as unhandled in
//    d (Twisted clears its DebugInfo.failResult).
//  - otherwise: the coroutine suspends and one step is added to d. When d's
//    result reaches that step, the step resumes the coroutine with it (the
//    coroutine runs inside that firing, up to its next suspension or its
//    end) and d's chain continues with null: the result was consumed.
// A loop awaiting fired Deferreds, or Deferreds fired later one by one, runs
// in constant stack: nothing recurses per await.
//
// While resumed from d's step, d is running a handler; awaiting d again then
// throws TypeMismatchError (the coroutine took d's result, as a handler that
// takes its argument by value; see "A result shared with a running handler"
// in the README).
//
// `co_await d` on an lvalue borrows d (no reference count is taken); on an
// rvalue (`co_await fetch()`) the awaiter holds it until the coroutine
// suspends. Only coroutines returning deferred::Deferred can co_await a
// Deferred.
template <class T>
detail::TypedAwaiter<T> as(Deferred&& d) noexcept;
template <class T>
detail::TypedAwaiter<T> as(const Deferred& d) noexcept;

detail::DeferredAwaiter operator co_await(Deferred&& d) noexcept;
detail::DeferredAwaiter operator co_await(const Deferred& d) noexcept;

// --- The coroutine's Deferred -------------------------------------------------
//
// Fires once, with the co_returned value or with a Failure of the escaping
// exception, when the body ends (a co_returned Failure is a failure too;
// co_return of a Deferred fails it with NestedDeferredError, where Twisted
// asserts). Firing it by hand before that is allowed (as in Twisted); the
// coroutine's own result then raises AlreadyCalledError at whoever resumed
// it (the awaited Deferred's chain gets that Failure).
//
// cancel(), as in Twisted's _cancellableInlineCallbacks:
//  - while the coroutine is suspended: the coroutine's Deferred gets a result
//    at once -- it waits (isWaiting()) on a fresh internal Deferred that the
//    coroutine will fire from then on -- and the awaited Deferred is
//    cancelled. The outcome of that (normally CancelledError) is delivered at
//    the co_await; the coroutine may catch it and go on, and what it finally
//    returns or raises becomes the result. If it finishes during cancel(),
//    the result is there when cancel() returns.
//  - after the coroutine has ended: does nothing.
//  - cancelling again while it waits cancels the internal Deferred, which
//    does the same again (the current awaited Deferred is cancelled).
// The coroutine's Deferred carries one internal step for this (counted by
// pendingSteps()), placed first.
//
// Ownership. The coroutine's Deferred does not own the frame. While the
// coroutine is suspended, its frame is owned by the step it added to the
// awaited Deferred; the frame owns the coroutine's Deferred (to fire it), so
// a coroutine nobody holds still runs to its end. If the awaited Deferred is
// destroyed without a result (every handle dropped, the step never ran), the
// frame is destroyed with it, its locals' destructors run, and the
// coroutine's Deferred never fires; cancel() on it then fails it with
// CancelledError. (Twisted's garbage collector keeps the awaited Deferred
// alive as long as the coroutine's Deferred is.) A frame that itself holds a
// handle to the Deferred it awaits (a local or a parameter) is a reference
// cycle the library cannot see: if that Deferred is never fired nor
// cancelled, both leak (`co_await std::move(d)` lets go of it). If the frame is destroyed after a cancel(), the
// coroutine's Deferred fails with CancelledError then (it waited on the
// internal Deferred only the frame could fire).

}  // namespace deferred

#include "deferred/detail/coroutine-inl.h"

// Error types raised by the deferred library.
//
// Every error the library itself creates derives from deferred::Error, so
// `failure.check<deferred::Error>()` recognises any of them. Later additions
// (FirstError, TimeoutError, queue errors) derive from Error too.
#pragma once

#include <stdexcept>
#include <string>

namespace deferred {

// Base of every error type defined by this library.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// callback() or errback() was called on a Deferred that already has a result.
// Thrown out of callback()/errback(); it is a programming error (misuse).
class AlreadyCalledError : public Error {
public:
  AlreadyCalledError() : Error("Deferred has already been called") {}
  using Error::Error;
};

// The Deferred was cancelled before it had a result (see Deferred::cancel()).
class CancelledError : public Error {
public:
  CancelledError() : Error("Deferred was cancelled") {}
  using Error::Error;
};

// A handler returned the very Deferred it is attached to. Twisted 22.4 only
// warns and then waits forever; this library makes that result a Failure of
// this type instead, so the mistake is visible on the error path.
class SelfChainError : public Error {
public:
  SelfChainError()
      : Error("a callback returned the Deferred it is attached to") {}
  using Error::Error;
};

// A Value did not hold the type that was asked for: a typed handler received
// a result of another type, or Value::get<T>() was called with the wrong T.
// The message names the expected and the actual type.
class TypeMismatchError : public Error {
public:
  using Error::Error;
};

// A Deferred was passed as a result to callback() (directly or inside a
// Value). Twisted forbids this with an assertion; here it is thrown. Return
// a Deferred from a handler, or use chainDeferred(), to chain Deferreds.
class NestedDeferredError : public Error {
public:
  NestedDeferredError()
      : Error("a Deferred cannot be the result given to callback()") {}
  using Error::Error;
};

// errback() without arguments was called outside of a catch block.
class NoCurrentExceptionError : public Error {
public:
  NoCurrentExceptionError()
      : Error("errback() without a failure needs a current exception") {}
  using Error::Error;
};

}  // namespace deferred

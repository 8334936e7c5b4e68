// deferred::Failure -- an error travelling along a Deferred's error path.
//
// A Failure wraps a C++ exception of any type (std::exception or not: even
// `throw 42`) as a std::exception_ptr, together with the error's type name
// and message. Copying a Failure is cheap (shared, immutable data) and never
// throws; passing one along the chain never throws a C++ exception. Only the
// inspecting operations trap()/check()/raise() rethrow internally.
//
//   d.addErrback([](const deferred::Failure& f) {
//     f.trap<std::invalid_argument>();  // anything else stays on the error path
//     return 0;                         // handled: back on the success path
//   });
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "deferred/errors.h"
#include "deferred/value.h"

namespace deferred {

class Failure;

namespace detail {
struct FailureData {
  std::exception_ptr exception;
  const std::type_info* type;  // nullptr when unknown
  std::string message;
};
struct DeferredState;
struct FailureAccess;
template <class E>
std::string messageOf(const E& error);
}  // namespace detail

class Failure {
public:
  // Wraps a copy of the exception object `error` without throwing it.
  //   Failure(std::runtime_error("boom")), Failure(MyError{}), Failure(42)
  template <class E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, Failure> &&
             !std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>)
  explicit Failure(E&& error);

  // Wraps an existing exception_ptr (must not be null: throws
  // std::invalid_argument). Rethrows it once internally to read its type and
  // message.
  explicit Failure(std::exception_ptr exception);

  // The exception being handled right now; call it inside a catch block.
  // Throws NoCurrentExceptionError outside of one.
  static Failure current();

  // A moved-from Failure is empty: exception() is null, typeName()
  // "unknown", message() empty; check() matches nothing, trap() throws it
  // and raise() throws std::logic_error.
  Failure(const Failure&) noexcept = default;
  Failure(Failure&&) noexcept = default;
  Failure& operator=(const Failure&) noexcept = default;
  Failure& operator=(Failure&&) noexcept = default;

  // The wrapped exception.
  const std::exception_ptr& exception() const noexcept;

  // Rethrows the wrapped exception (Twisted's raiseException()).
  [[noreturn]] void raise() const;

  // Demangled name of the exception's dynamic type ("std::runtime_error",
  // "int"); "unknown" if the type could not be determined.
  std::string typeName() const;

  // what() for std::exception; the value for strings, bools and the
  // built-in integer and floating-point types ("42", "1.500000"; a char is
  // a one-character string); empty for other types. The same whether the
  // Failure was made from the object or caught after it was thrown.
  const std::string& message() const noexcept;

  // "TypeName: message".
  std::string toString() const;

  // Index (0-based, in argument order) of the first of Es that the exception
  // is, or derives from; std::nullopt if none. Costs one rethrow per type.
  template <class... Es>
  std::optional<std::size_t> check() const;

  // Like check(), but if none of Es matches throws this very Failure, so
  // that a handler calling trap() leaves the chain on the error path with
  // the same Failure (sameAs() the original).
  template <class... Es>
  std::size_t trap() const;

  // True if `other` is this Failure or a copy of it.
  bool sameAs(const Failure& other) const noexcept {
    return data_ == other.data_;
  }

private:
  friend struct detail::DeferredState;
  friend struct detail::FailureAccess;
  Failure() noexcept = default;  // empty; only used inside the library
  explicit Failure(std::shared_ptr<const detail::FailureData> data) noexcept
      : data_(std::move(data)) {}

  std::shared_ptr<const detail::FailureData> data_;
};

namespace detail {
template <>
inline constexpr unsigned char kValueSpecialTag<Failure> = 1;
}  // namespace detail

// Same as Failure(std::forward<E>(error)); reads better as a return value:
//   return deferred::makeFailure(MyError("bad input"));
template <class E>
Failure makeFailure(E&& error) {
  return Failure(std::forward<E>(error));
}

}  // namespace deferred

#include "deferred/detail/failure-inl.h"

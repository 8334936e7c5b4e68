// Implementation details of deferred::Failure. Not part of the public API.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace deferred::detail {

// The types whose value is a thrown object's message, besides std::exception
// (what()) and strings. FailureAccess::fromCaughtUnknown catches exactly
// these (src/failure.cpp), so that a Failure made from an object and one
// caught after throwing it have the same message.
template <class E>
inline constexpr bool kNumberMessage =
    std::is_same_v<E, bool> || std::is_same_v<E, char> ||
    std::is_same_v<E, signed char> || std::is_same_v<E, unsigned char> ||
    std::is_same_v<E, short> || std::is_same_v<E, unsigned short> ||
    std::is_same_v<E, int> || std::is_same_v<E, unsigned> ||
    std::is_same_v<E, long> || std::is_same_v<E, unsigned long> ||
    std::is_same_v<E, long long> || std::is_same_v<E, unsigned long long> ||
    std::is_same_v<E, float> || std::is_same_v<E, double> ||
    std::is_same_v<E, long double>;

// Message of an exception object that is known statically.
template <class E>
std::string messageOf(const E& error) {
  if constexpr (std::is_base_of_v<std::exception, E>) {
    return error.what();
  } else if constexpr (std::is_same_v<E, std::string>) {
    return error;
  } else if constexpr (std::is_same_v<E, const char*> ||
                       std::is_same_v<E, char*>) {
    return error != nullptr ? std::string(error) : std::string();
  } else if constexpr (std::is_same_v<E, bool>) {
    return error ? "true" : "false";
  } else if constexpr (std::is_same_v<E, char>) {
    return std::string(1, error);  // a character; signed/unsigned char are numbers
  } else if constexpr (kNumberMessage<E>) {
    return std::to_string(error);
  } else {
    return std::string();
  }
}

struct FailureAccess {
  // Inside `catch (const std::exception& e)`: no rethrow needed.
  static Failure fromCaught(const std::exception& error);
  // Inside `catch (...)`: rethrows once to find a message.
  static Failure fromCaughtUnknown();
};

// Whether `exception` is an E or derives from one: one rethrow.
template <class E>
bool isA(const std::exception_ptr& exception) noexcept {
  try {
    std::rethrow_exception(exception);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}
using ExceptionTest = bool (*)(const std::exception_ptr&) noexcept;

// The index of the first of `tests` that `data`'s exception passes; none for
// an empty Failure. Not a template: Failure::check only lists the types.
std::optional<std::size_t> firstMatch(const FailureData* data,
                                      const ExceptionTest* tests,
                                      std::size_t count) noexcept;

}  // namespace deferred::detail

namespace deferred {

template <class E>
  requires(!std::is_same_v<std::remove_cvref_t<E>, Failure> &&
           !std::is_same_v<std::remove_cvref_t<E>, std::exception_ptr>)
Failure::Failure(E&& error) {
  using D = std::decay_t<E>;
  auto data = std::make_shared<detail::FailureData>();
  data->type = &typeid(D);
  data->message = detail::messageOf<D>(error);
  data->exception = std::make_exception_ptr<D>(std::forward<E>(error));
  data_ = std::move(data);
}

template <class... Es>
std::optional<std::size_t> Failure::check() const {
  // One rethrow per candidate keeps the argument order as the priority, as
  // in Twisted (the first listed type that matches wins).
  static constexpr std::array<detail::ExceptionTest, sizeof...(Es)> tests{
      &detail::isA<Es>...};
  return detail::firstMatch(data_.get(), tests.data(), tests.size());
}

template <class... Es>
std::size_t Failure::trap() const {
  if (auto index = check<Es...>()) return *index;
  throw *this;
}

}  // namespace deferred

// Implementation details of deferred::Failure. Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace deferred::detail {

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
  } else if constexpr (std::is_arithmetic_v<E>) {
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
  static bool empty(const Failure& f) noexcept { return f.data_ == nullptr; }
};

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
  std::optional<std::size_t> found;
  std::size_t index = 0;
  // One rethrow per candidate keeps the argument order as the priority, as
  // in Twisted (the first listed type that matches wins).
  auto tryOne = [&]<class E>() {
    if (found || !data_) return;
    try {
      std::rethrow_exception(data_->exception);
    } catch (const E&) {
      found = index;
    } catch (...) {
    }
    ++index;
  };
  (tryOne.template operator()<Es>(), ...);
  return found;
}

template <class... Es>
std::size_t Failure::trap() const {
  if (auto index = check<Es...>()) return *index;
  throw *this;
}

}  // namespace deferred

#include "deferred/failure.h"

#include <string>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

namespace deferred::detail {

namespace {

const std::type_info* currentExceptionType() noexcept {
#if defined(__GNUG__)
  return abi::__cxa_current_exception_type();
#else
  return nullptr;
#endif
}

// Inside a catch block for an exception that is not a std::exception:
// rethrows once to read the message of the types messageOf() reads
// (kNumberMessage and strings), formatted by it.
std::string currentUnknownMessage() {
  try {
    throw;
  } catch (const char* text) {
    return messageOf(text);
  } catch (const std::string& text) {
    return messageOf(text);
  } catch (bool v) {
    return messageOf(v);
  } catch (char v) {
    return messageOf(v);
  } catch (signed char v) {
    return messageOf(v);
  } catch (unsigned char v) {
    return messageOf(v);
  } catch (short v) {
    return messageOf(v);
  } catch (unsigned short v) {
    return messageOf(v);
  } catch (int v) {
    return messageOf(v);
  } catch (unsigned v) {
    return messageOf(v);
  } catch (long v) {
    return messageOf(v);
  } catch (unsigned long v) {
    return messageOf(v);
  } catch (long long v) {
    return messageOf(v);
  } catch (unsigned long long v) {
    return messageOf(v);
  } catch (float v) {
    return messageOf(v);
  } catch (double v) {
    return messageOf(v);
  } catch (long double v) {
    return messageOf(v);
  } catch (...) {
    return std::string();
  }
}

}  // namespace

Failure FailureAccess::fromCaught(const std::exception& error) {
  auto data = std::make_shared<FailureData>();
  data->exception = std::current_exception();
  data->type = &typeid(error);
  data->message = error.what();
  return Failure(std::shared_ptr<const FailureData>(std::move(data)));
}

std::optional<std::size_t> firstMatch(const FailureData* data,
                                      const ExceptionTest* tests,
                                      std::size_t count) noexcept {
  if (data == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < count; ++i) {
    if (tests[i](data->exception)) return i;
  }
  return std::nullopt;
}

Failure FailureAccess::fromCaughtUnknown() {
  auto data = std::make_shared<FailureData>();
  data->exception = std::current_exception();
  data->type = currentExceptionType();
  data->message = currentUnknownMessage();
  return Failure(std::shared_ptr<const FailureData>(std::move(data)));
}

}  // namespace deferred::detail

namespace deferred {

Failure::Failure(std::exception_ptr exception) {
  if (!exception) {
    throw std::invalid_argument("Failure needs a non-null exception_ptr");
  }
  try {
    std::rethrow_exception(exception);
  } catch (const Failure& failure) {
    data_ = failure.data_;
  } catch (const std::exception& error) {
    data_ = detail::FailureAccess::fromCaught(error).data_;
  } catch (...) {
    data_ = detail::FailureAccess::fromCaughtUnknown().data_;
  }
}

Failure Failure::current() {
  if (!std::current_exception()) throw NoCurrentExceptionError();
  try {
    throw;
  } catch (const Failure& failure) {
    return failure;
  } catch (const std::exception& error) {
    return detail::FailureAccess::fromCaught(error);
  } catch (...) {
    return detail::FailureAccess::fromCaughtUnknown();
  }
}

const std::exception_ptr& Failure::exception() const noexcept {
  static const std::exception_ptr none;
  return data_ ? data_->exception : none;
}

void Failure::raise() const {
  if (!data_) throw std::logic_error("empty Failure");
  std::rethrow_exception(data_->exception);
}

std::string Failure::typeName() const {
  if (!data_ || data_->type == nullptr) return "unknown";
  return detail::typeName(*data_->type);
}

const std::string& Failure::message() const noexcept {
  static const std::string none;
  return data_ ? data_->message : none;
}

std::string Failure::toString() const {
  return typeName() + ": " + message();
}

}  // namespace deferred

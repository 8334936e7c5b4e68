#include "deferred/value.h"

#include <cstdlib>
#include <memory>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

namespace deferred::detail {

namespace {

void replaceAll(std::string& text, const std::string& from,
                const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string typeName(const std::type_info& type) {
  std::string name = type.name();
#if defined(__GNUG__)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
  if (status == 0 && demangled) name = demangled.get();
#endif
  // The standard library's spelling of common types is unreadable.
  replaceAll(name,
             "std::__cxx11::basic_string<char, std::char_traits<char>, "
             "std::allocator<char> >",
             "std::string");
  replaceAll(name, "std::basic_string<char, std::char_traits<char>, "
                   "std::allocator<char> >",
             "std::string");
  replaceAll(name, "std::__cxx11::", "std::");
  return name;
}

}  // namespace deferred::detail

namespace deferred {

Value Value::copy() const {
  Value result;
  if (vtable_ == nullptr) return result;
  if (vtable_->copy == nullptr) {
    throw TypeMismatchError("Value::copy(): " + typeName() +
                            " is not copyable");
  }
  vtable_->copy(result.buffer_, buffer_);  // the table finds the object
  result.vtable_ = vtable_;
  return result;
}

std::string Value::typeName() const {
  if (vtable_ == nullptr) return "null";
  return detail::typeName(vtable_->type());
}

bool Value::holdsType(const std::type_info& type) const noexcept {
  return vtable_ != nullptr && vtable_->type() == type;
}

void Value::throwMismatch(const std::type_info& wanted) const {
  throw TypeMismatchError("Value holds " + typeName() + ", not " +
                          detail::typeName(wanted));
}

}  // namespace deferred

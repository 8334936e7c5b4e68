// deferred::Value -- the dynamically typed result that flows along a chain.
//
// Twisted's results are Python objects: any type, changing from one callback
// to the next. Value is the C++ equivalent: a type-erased box that can hold an
// object of any movable type, including move-only types. An empty Value is
// Twisted's None ("null").
//
//   deferred::Value v = 42;
//   v.is<int>();          // true
//   v.get<int>() += 1;    // 43
//   v = std::string("x"); // the type may change
//   v.get<int>();         // throws TypeMismatchError naming both types
//
// Small objects (up to 32 bytes, alignment up to 8, nothrow-movable: ints,
// pointers, std::string, a Deferred, a Failure) are stored inline without a
// heap allocation; bigger ones are stored on the heap.
//
// Value is move-only, because it may hold move-only objects. Use copy() to
// duplicate a Value whose content is copyable.
//
// String literals and `char*` are stored as std::string, so
// `d.callback("text")` reaches a handler taking `std::string`.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "deferred/errors.h"

namespace deferred {

class Value;

namespace detail {
struct ValueVTable;
// Types the chain treats specially when they arrive inside a Value:
// 1 = Failure (error path), 2 = Deferred (chaining). Specialised next to
// those classes.
template <class T>
inline constexpr unsigned char kValueSpecialTag = 0;
template <class T>
struct ValueOps;
struct ValueAccess;
// Readable, demangled name of a type ("int", "std::string", "my::Error").
std::string typeName(const std::type_info& type);
}  // namespace detail

class Value {
public:
  // The empty Value (Twisted's None).
  Value() noexcept {}  // NOLINT: the buffer stays uninitialised

  // Holds `object` (moved or copied in). String literals and char pointers
  // become std::string.
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, Value> &&
             !std::is_same_v<std::remove_cvref_t<T>, std::in_place_t>)
  Value(T&& object);  // NOLINT: implicit on purpose, like Python assignment

  // Constructs a T in place from `args`.
  template <class T, class... Args>
  explicit Value(std::in_place_type_t<T>, Args&&... args);

  Value(Value&& other) noexcept;
  Value& operator=(Value&& other) noexcept;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value();

  // A copy of this Value. Throws TypeMismatchError if the held type is not
  // copyable (a move-only type).
  Value copy() const;

  // True unless this is the empty (null) Value.
  bool hasValue() const noexcept { return vtable_ != nullptr; }
  bool isNull() const noexcept { return vtable_ == nullptr; }

  // True if the held object is exactly of type T (no conversions).
  template <class T>
  bool is() const noexcept;

  // The held T. Throws TypeMismatchError (naming the expected and the actual
  // type) if the Value does not hold exactly a T.
  template <class T>
  T& get() &;
  template <class T>
  const T& get() const&;
  template <class T>
  T&& get() &&;

  // Pointer to the held T, or nullptr if the Value holds something else.
  template <class T>
  T* getIf() noexcept;
  template <class T>
  const T* getIf() const noexcept;

  // Replaces the content with a T built from `args`.
  template <class T, class... Args>
  T& emplace(Args&&... args);

  // Makes this Value empty (null).
  void reset() noexcept;

  // Type of the held object; typeid(void) when empty.
  const std::type_info& type() const noexcept;

  // Demangled name of the held type ("int", "std::string"); "null" when empty.
  std::string typeName() const;

private:
  template <class T>
  friend struct detail::ValueOps;
  friend struct detail::ValueAccess;

  static constexpr std::size_t kInlineSize = 32;
  static constexpr std::size_t kInlineAlign = alignof(void*);

  // The held object; only for a Value that is not null.
  void* object() noexcept;
  const void* object() const noexcept;
  [[noreturn]] void throwMismatch(const std::type_info& wanted) const;
  bool holdsType(const std::type_info& type) const noexcept;

  const detail::ValueVTable* vtable_ = nullptr;
  alignas(kInlineAlign) unsigned char buffer_[kInlineSize];
};

}  // namespace deferred

#include "deferred/detail/value-inl.h"

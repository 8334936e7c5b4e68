// Implementation details of deferred::Value. Not part of the public API.
#pragma once

#include <cstring>
#include <new>

namespace deferred::detail {

// One static table per stored type. A null `destroy`/`move` means the
// object is trivially destructible/relocatable (plain memcpy of the buffer).
struct ValueVTable {
  const std::type_info& (*type)() noexcept;
  void (*destroy)(void* storage) noexcept;
  void (*move)(void* dst, void* src) noexcept;  // moves and destroys src
  void (*copy)(void* dst, const void* src);     // null when not copyable
  bool inlined;
  unsigned char special;  // kValueSpecialTag of the stored type
  unsigned char size;     // bytes of the buffer in use: the object's or its pointer's
};

template <class T>
struct ValueOps {
  static constexpr bool kInline =
      sizeof(T) <= 32 && alignof(T) <= alignof(void*) &&
      std::is_nothrow_move_constructible_v<T>;
  static constexpr bool kTrivial =
      kInline && std::is_trivially_copyable_v<T> &&
      std::is_trivially_destructible_v<T>;

  static const std::type_info& type() noexcept { return typeid(T); }

  static T* object(void* storage) noexcept {
    if constexpr (kInline) {
      return std::launder(static_cast<T*>(storage));
    } else {
      return *static_cast<T**>(storage);
    }
  }

  static void destroy(void* storage) noexcept {
    if constexpr (kInline) {
      object(storage)->~T();
    } else {
      delete object(storage);
    }
  }

  static void move(void* dst, void* src) noexcept {
    if constexpr (kInline) {
      T* from = object(src);
      ::new (dst) T(std::move(*from));
      from->~T();
    } else {
      *static_cast<T**>(dst) = *static_cast<T**>(src);
    }
  }

  static void copy(void* dst, const void* src) {
    if constexpr (std::is_copy_constructible_v<T>) {
      const T* from = object(const_cast<void*>(src));
      if constexpr (kInline) {
        ::new (dst) T(*from);
      } else {
        *static_cast<T**>(dst) = new T(*from);
      }
    }
  }

  template <class... Args>
  static void construct(void* storage, Args&&... args) {
    if constexpr (kInline) {
      ::new (storage) T(std::forward<Args>(args)...);
    } else {
      *static_cast<T**>(storage) = new T(std::forward<Args>(args)...);
    }
  }

  static constexpr ValueVTable vtable{
      &type,
      kTrivial ? nullptr : &destroy,
      kTrivial ? nullptr : &move,
      std::is_copy_constructible_v<T> ? &copy : nullptr,
      kInline,
      kValueSpecialTag<T>,
      kInline ? sizeof(T) : sizeof(T*),
  };
};

struct ValueAccess {
  static unsigned char special(const Value& v) noexcept;
  // Makes `to` (null) a copy of `from` with a memcpy when that is a copy: a
  // null Value, or a copyable, trivially copyable object stored inline.
  // False (nothing done) otherwise: use Value::copy().
  static bool copyTrivially(const Value& from, Value& to) noexcept;
  template <class T>
  static T& unchecked(Value& v) noexcept {
    return *static_cast<T*>(v.object());
  }
};

template <class T>
using StoredType =
    std::conditional_t<std::is_same_v<std::decay_t<T>, const char*> ||
                           std::is_same_v<std::decay_t<T>, char*>,
                       std::string, std::decay_t<T>>;

}  // namespace deferred::detail

namespace deferred {

template <class T>
  requires(!std::is_same_v<std::remove_cvref_t<T>, Value> &&
           !std::is_same_v<std::remove_cvref_t<T>, std::in_place_t>)
Value::Value(T&& object) {
  using S = detail::StoredType<T>;
  static_assert(std::is_move_constructible_v<S>,
                "a Value can only hold a movable type");
  detail::ValueOps<S>::construct(buffer_, std::forward<T>(object));
  vtable_ = &detail::ValueOps<S>::vtable;
}

template <class T, class... Args>
Value::Value(std::in_place_type_t<T>, Args&&... args) {
  detail::ValueOps<T>::construct(buffer_, std::forward<Args>(args)...);
  vtable_ = &detail::ValueOps<T>::vtable;
}

// Always inlined: every Value handler moves its argument and its result
// with it, and a large translation unit can make the compiler stop inlining.
[[gnu::always_inline]] inline Value::Value(Value&& other) noexcept
    : vtable_(other.vtable_) {
  if (vtable_ == nullptr) return;
  if (vtable_->move) {
    vtable_->move(buffer_, other.buffer_);
  } else {
    std::memcpy(buffer_, other.buffer_, kInlineSize);
  }
  other.vtable_ = nullptr;
}

inline Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    reset();
    vtable_ = other.vtable_;
    if (vtable_ != nullptr) {
      if (vtable_->move) {
        vtable_->move(buffer_, other.buffer_);
      } else {
        std::memcpy(buffer_, other.buffer_, kInlineSize);
      }
      other.vtable_ = nullptr;
    }
  }
  return *this;
}

inline Value::~Value() { reset(); }

inline void Value::reset() noexcept {
  if (vtable_ != nullptr) {
    const detail::ValueVTable* vt = vtable_;
    vtable_ = nullptr;
    if (vt->destroy) vt->destroy(buffer_);
  }
}

inline void* Value::object() noexcept {
  return vtable_->inlined ? static_cast<void*>(buffer_)
                          : *reinterpret_cast<void**>(buffer_);
}

inline const void* Value::object() const noexcept {
  return const_cast<Value*>(this)->object();
}

template <class T>
bool Value::is() const noexcept {
  // The table's address answers at once; holdsType() compares the types
  // (out of line), for copies of the table in other shared objects.
  return vtable_ == &detail::ValueOps<T>::vtable || holdsType(typeid(T));
}

template <class T>
T* Value::getIf() noexcept {
  return is<T>() ? static_cast<T*>(object()) : nullptr;
}

template <class T>
const T* Value::getIf() const noexcept {
  return is<T>() ? static_cast<const T*>(object()) : nullptr;
}

template <class T>
T& Value::get() & {
  if (!is<T>()) throwMismatch(typeid(T));
  return *static_cast<T*>(object());
}

template <class T>
const T& Value::get() const& {
  if (!is<T>()) throwMismatch(typeid(T));
  return *static_cast<const T*>(object());
}

template <class T>
T&& Value::get() && {
  if (!is<T>()) throwMismatch(typeid(T));
  return std::move(*static_cast<T*>(object()));
}

template <class T, class... Args>
T& Value::emplace(Args&&... args) {
  reset();
  detail::ValueOps<T>::construct(buffer_, std::forward<Args>(args)...);
  vtable_ = &detail::ValueOps<T>::vtable;
  return *static_cast<T*>(object());
}

inline const std::type_info& Value::type() const noexcept {
  return vtable_ == nullptr ? typeid(void) : vtable_->type();
}

}  // namespace deferred

namespace deferred::detail {
inline unsigned char ValueAccess::special(const Value& v) noexcept {
  return v.vtable_ == nullptr ? 0 : v.vtable_->special;
}

inline bool ValueAccess::copyTrivially(const Value& from, Value& to) noexcept {
  const ValueVTable* vt = from.vtable_;
  if (vt == nullptr) return true;
  if (vt->move != nullptr || vt->copy == nullptr) return false;
  // Only the bytes in use are read: the rest of the buffer is often in the
  // next cache line (awaiting a fired Deferred reads its value once, cold).
  if (vt->size <= 8) {
    std::memcpy(to.buffer_, from.buffer_, 8);
  } else {
    std::memcpy(to.buffer_, from.buffer_, Value::kInlineSize);
  }
  to.vtable_ = vt;
  return true;
}
}  // namespace deferred::detail

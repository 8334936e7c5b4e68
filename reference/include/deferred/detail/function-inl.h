// A move-only type-erased callable with a two-pointer inline buffer.
// Not part of the public API.
//
// Unlike std::function it never allocates for callables up to two pointers
// in size, supports move-only callables, and relocates trivially copyable
// callables with a memcpy (no indirect call).
#pragma once

#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace deferred::detail {

template <class Signature>
class SmallFunction;

template <class R, class... Args>
class SmallFunction<R(Args...)> {
public:
  static constexpr std::size_t kInlineSize = 2 * sizeof(void*);

  SmallFunction() noexcept = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, SmallFunction>)
  explicit SmallFunction(F&& f) {
    emplace(std::forward<F>(f));
  }

  // Stores `f`; this must be empty.
  template <class F>
  void emplace(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (fitsInline<D>()) {
      if constexpr (sizeof(D) < kInlineSize || std::is_empty_v<D>) {
        // The bytes D leaves unused are copied by take(): defined, and no
        // -Wmaybe-uninitialized (a captureless lambda uses none of them).
        std::memset(buffer_, 0, kInlineSize);
      }
      ::new (static_cast<void*>(buffer_)) D(std::forward<F>(f));
      invoke_ = &invokeInline<D>;
      if constexpr (!(std::is_trivially_copyable_v<D> &&
                      std::is_trivially_destructible_v<D>)) {
        manage_ = &manageInline<D>;
      }
    } else {
      *reinterpret_cast<D**>(buffer_) = new D(std::forward<F>(f));
      invoke_ = &invokeHeap<D>;
      manage_ = &manageHeap<D>;
    }
  }

  SmallFunction(SmallFunction&& other) noexcept { take(other); }
  SmallFunction& operator=(SmallFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  SmallFunction(const SmallFunction&) = delete;
  SmallFunction& operator=(const SmallFunction&) = delete;
  ~SmallFunction() {
    if (manage_ != nullptr) manage_(Op::Destroy, buffer_, nullptr);
  }

  explicit operator bool() const noexcept { return invoke_ != nullptr; }

  R operator()(Args... args) {
    return invoke_(static_cast<void*>(buffer_), std::forward<Args>(args)...);
  }

  void reset() noexcept {
    if (manage_ != nullptr) manage_(Op::Destroy, buffer_, nullptr);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

  // True if this holds a callable of exactly type F.
  template <class F>
  bool holds() const noexcept {
    if constexpr (fitsInline<F>()) {
      return invoke_ == &invokeInline<F>;
    } else {
      return invoke_ == &invokeHeap<F>;
    }
  }

  // The held F; only valid if holds<F>().
  template <class F>
  F* target() noexcept {
    if constexpr (fitsInline<F>()) {
      return std::launder(reinterpret_cast<F*>(buffer_));
    } else {
      return *reinterpret_cast<F**>(buffer_);
    }
  }

  template <class F>
  static constexpr bool fitsInline() {
    return sizeof(F) <= kInlineSize && alignof(F) <= alignof(void*) &&
           std::is_nothrow_move_constructible_v<F>;
  }

private:
  enum class Op { Move, Destroy };
  using Invoke = R (*)(void*, Args...);
  using Manage = void (*)(Op, void* self, void* destination) noexcept;

  template <class F>
  static R invokeInline(void* self, Args... args) {
    return (*std::launder(static_cast<F*>(self)))(std::forward<Args>(args)...);
  }
  template <class F>
  static R invokeHeap(void* self, Args... args) {
    return (**static_cast<F**>(self))(std::forward<Args>(args)...);
  }
  template <class F>
  static void manageInline(Op op, void* self, void* destination) noexcept {
    F* f = std::launder(static_cast<F*>(self));
    if (op == Op::Move) ::new (destination) F(std::move(*f));
    f->~F();
  }
  template <class F>
  static void manageHeap(Op op, void* self, void* destination) noexcept {
    F** f = static_cast<F**>(self);
    if (op == Op::Move) {
      *static_cast<F**>(destination) = *f;
    } else {
      delete *f;
    }
  }

  void take(SmallFunction& other) noexcept {
    invoke_ = other.invoke_;
    manage_ = other.manage_;
    if (manage_ != nullptr) {
      manage_(Op::Move, other.buffer_, buffer_);
    } else if (invoke_ != nullptr) {
      std::memcpy(buffer_, other.buffer_, kInlineSize);
    }
    other.invoke_ = nullptr;
    other.manage_ = nullptr;
  }

  Invoke invoke_ = nullptr;
  Manage manage_ = nullptr;
  alignas(void*) unsigned char buffer_[kInlineSize];
};

}  // namespace deferred::detail

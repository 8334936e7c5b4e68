// Force-included in the fuzz build only (FuzzFlags.cmake). Debian bookworm's
// clang 14 with libstdc++ 12 lacks std::source_location (libstdc++ needs
// __builtin_source_location, which clang has from version 15 on), and the
// reference library uses it. This stand-in, built on the __builtin_FILE/LINE/
// FUNCTION/COLUMN intrinsics clang 14 does have, is defined only when the
// standard library does not provide the real one; elsewhere it is a no-op.
#pragma once
#if defined(__cplusplus)
#include <version>
#if !defined(__cpp_lib_source_location)
#include <source_location>  // empty here; included so that later includes are no-ops
#include <cstdint>
namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE(),
                                           std::uint_least32_t column = __builtin_COLUMN()) noexcept {
    source_location s;
    s.file_ = file;
    s.function_ = function;
    s.line_ = line;
    s.column_ = column;
    return s;
  }
  constexpr source_location() noexcept = default;
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return column_; }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
  std::uint_least32_t column_ = 0;
};
}  // namespace std
#endif
#endif

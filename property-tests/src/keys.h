// The step-language key names that are being renamed live here, and only here.
// spec/README.md: the object a step acts on is `target` (formerly `on`), and a
// waiting Deferred's final state names what it waits for with `inner`
// (formerly `on`). The model reads either spelling of the target key.
#pragma once

namespace props {

inline constexpr const char* kTargetKey = "target";  // was "on"
inline constexpr const char* kLegacyTargetKey = "on";
inline constexpr const char* kInnerKey = "inner";    // was "on" (final state `waiting`)

}  // namespace props

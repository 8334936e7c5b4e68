// What the cycle collector in deferred.cpp needs of a coroutine's resuming
// step (coroutine.cpp). Private to the library.
#pragma once

#include "deferred/deferred.h"

namespace deferred::detail {

// If `step` is the step a suspended coroutine added to the Deferred it
// awaits: the coroutine's own Deferred, which the frame (owned by the step)
// holds. Otherwise nullptr.
DeferredState* suspendedCoroutineDeferred(Handler& step) noexcept;

}  // namespace deferred::detail

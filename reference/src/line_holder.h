// Handles on a semaphore's or a DeferredQueue's state, whose line of waiting
// Deferreds can close a cycle (see the cycle collector in deferred.cpp).
// Private to the library.
#pragma once

#include <deque>
#include <memory>

#include "deferred/deferred.h"

namespace deferred::detail {

// Takes `d` out of `line` (a waiter's cancel). It may be gone already: the
// cycle collector empties the line of a state only garbage refers to.
inline void leaveLine(std::deque<Deferred>& line, const Deferred& d) noexcept {
  for (auto it = line.begin(); it != line.end(); ++it) {
    if (*it == d) {
      line.erase(it);
      DeferredAccess::state(d)->heldInQueue = false;
      return;
    }
  }
}

// A waiter's canceller (Twisted's _cancelAcquire, and DeferredQueue's
// cancelGet): leave the line. Weak, so that a waiting Deferred does not keep
// the state (which holds it) alive.
template <class State>
struct LeaveLine {
  std::weak_ptr<State> state;
  void operator()(Deferred& d) const {
    if (std::shared_ptr<State> s = state.lock()) leaveLine(s->waiting, d);
  }
};

// Drops `handle`. The state may then be held only from a cycle through its
// `line` (a waiter feeding a DeferredList that recorded the semaphore or
// queue): if others still hold it, the cycle collector looks, from the first
// waiter, once this handle is gone.
template <class State>
void dropLineHolder(std::shared_ptr<State>& handle, std::deque<Deferred> State::*line) noexcept {
  if (!handle || handle.use_count() == 1 || ((*handle).*line).empty()) return;
  DeferredState* waiter = DeferredAccess::state(((*handle).*line).front());
  ++waiter->weak;
  handle.reset();
  if (!waiter->dead && mayBeInCycle(waiter)) suspectCycle(waiter);
  releaseWeak(waiter);
}

}  // namespace deferred::detail

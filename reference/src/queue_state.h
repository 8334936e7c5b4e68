// DeferredQueue's shared state, shared with the cycle collector in
// deferred.cpp (a queue holds its waiting get()s and its pending values,
// which may hold the queue). Private to the library.
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include "deferred/queue.h"

namespace deferred {

struct DeferredQueue::State {
  std::optional<std::size_t> size;
  std::optional<std::size_t> backlog;
  std::deque<Value> pending;
  std::deque<Deferred> waiting;
};

namespace detail {

struct QueueAccess {
  // The queue `v` holds, or null.
  static const std::shared_ptr<DeferredQueue::State>* heldQueue(const Value& v) noexcept {
    if (const DeferredQueue* q = v.getIf<DeferredQueue>()) return &q->state_;
    return nullptr;
  }
};

}  // namespace detail
}  // namespace deferred

// deferred/queue.h -- a queue whose get() returns a Deferred, with Twisted
// 22.4's DeferredQueue semantics.
//
//   deferred::DeferredQueue jobs;
//   jobs.get().addCallback([](const std::string& job) { handle(job); });
//   jobs.put(std::string("first"));   // the waiting get() fires now
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include "deferred/deferred.h"

namespace deferred {

// put() on a queue whose pending values already fill `size`.
class QueueOverflow : public Error {
public:
  QueueOverflow() : Error("DeferredQueue is full") {}
};

// get() on a queue whose waiting get()s already fill `backlog`.
class QueueUnderflow : public Error {
public:
  QueueUnderflow() : Error("DeferredQueue backlog of get() calls is full") {}
};

// A handle: copies refer to the same queue.
class DeferredQueue {
public:
  // `size`: the most values kept pending (unlimited if empty); `backlog`:
  // the most get()s kept waiting (unlimited if empty).
  explicit DeferredQueue(std::optional<std::size_t> size = std::nullopt,
                         std::optional<std::size_t> backlog = std::nullopt);

  // Gives `value` to the first waiting get() (whose handlers run before put()
  // returns), or keeps it pending. Throws QueueOverflow when it can do
  // neither.
  void put(Value value);

  // A Deferred with the first pending value (already fired), or one that
  // fires on a later put(). Throws QueueUnderflow when the backlog is full.
  // Cancelling a waiting get() removes it from the queue.
  Deferred get();

  // The values put and not yet taken, oldest first.
  const std::deque<Value>& pending() const noexcept;
  // get()s not yet served.
  std::size_t waiting() const noexcept;

  bool sameAs(const DeferredQueue& other) const noexcept { return state_ == other.state_; }

  struct State;  // opaque

private:
  std::shared_ptr<State> state_;
};

}  // namespace deferred

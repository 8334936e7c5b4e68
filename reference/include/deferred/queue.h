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

namespace detail {
struct QueueAccess;
}  // namespace detail

// Thrown by put() when the queue already holds `size` values and no get()
// waits. A library error (derives from deferred::Error): usable with
// Failure::check/trap, distinct from QueueUnderflow.
class QueueOverflow : public Error {
public:
  QueueOverflow() : Error("DeferredQueue is full") {}
  using Error::Error;
};

// Thrown by get() when no value is pending and `backlog` get()s already wait.
class QueueUnderflow : public Error {
public:
  QueueUnderflow() : Error("DeferredQueue backlog of get() calls is full") {}
  using Error::Error;
};

// Twisted's DeferredQueue. A handle: copies refer to the same queue.
//
// Ownership: the queue holds its waiting get() Deferreds; they do not hold
// the queue, so a queue nobody holds goes with them (their handlers never
// run; cancel() on one still fails it with CancelledError). The queue as a
// value held by something a waiter holds (a DeferredList over the waiter
// that recorded it) is a cycle the library frees once nothing else holds it.
class DeferredQueue {
public:
  // `size`: the most values kept pending; `backlog`: the most get()s kept
  // waiting. std::nullopt (Twisted's None): unlimited. 0 is allowed: a
  // queue of size 0 only hands values to waiting get()s.
  explicit DeferredQueue(std::optional<std::size_t> size = std::nullopt,
                         std::optional<std::size_t> backlog = std::nullopt);

  DeferredQueue(const DeferredQueue&) = default;
  DeferredQueue(DeferredQueue&&) noexcept = default;
  DeferredQueue& operator=(DeferredQueue other) noexcept {
    state_.swap(other.state_);  // the old one goes with `other`, checked as a drop
    return *this;
  }
  ~DeferredQueue();

  // Gives `value` to the get() that has waited longest -- it fires now, its
  // handlers run before put() returns (a Value holding a Failure fires it on
  // the error path) -- or, if none waits, keeps it pending. Throws
  // QueueOverflow, changing nothing, if none waits and `size` values are
  // pending already.
  void put(Value value);

  // The oldest pending value, taken out of the queue, as a Deferred that has
  // fired already (succeed()); if none is pending, a Deferred that fires on
  // a later put(), in the order the get()s were made. Throws QueueUnderflow,
  // changing nothing, if none is pending and `backlog` get()s wait already.
  // Cancelling a waiting get() removes it from the queue (CancelledError);
  // cancelling one that has fired does nothing.
  Deferred get();

  // The values put and not yet taken, oldest first.
  const std::deque<Value>& pending() const noexcept;
  // get()s not yet served.
  std::size_t waiting() const noexcept;

  // Identity: both handles refer to the same queue.
  bool sameAs(const DeferredQueue& other) const noexcept { return state_ == other.state_; }

  struct State;  // opaque

private:
  friend struct detail::QueueAccess;
  std::shared_ptr<State> state_;
};

}  // namespace deferred

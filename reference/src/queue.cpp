#include "deferred/queue.h"

#include "queue_state.h"

#include <algorithm>
#include <utility>

namespace deferred {

namespace {

// A waiting get()'s canceller: leave the queue (weakly: the queue holds it).
struct LeaveQueue {
  std::weak_ptr<DeferredQueue::State> state;
  void operator()(Deferred& d) const;
};

}  // namespace

DeferredQueue::DeferredQueue(std::optional<std::size_t> size,
                             std::optional<std::size_t> backlog)
    : state_(std::make_shared<State>(State{size, backlog, {}, {}})) {}

void DeferredQueue::put(Value value) {
  State& s = *state_;
  if (!s.waiting.empty()) {
    Deferred next = std::move(s.waiting.front());
    s.waiting.pop_front();
    detail::DeferredAccess::state(next)->heldInQueue = false;
    next.callback(std::move(value));
  } else if (!s.size || s.pending.size() < *s.size) {
    s.pending.push_back(std::move(value));
  } else {
    throw QueueOverflow();
  }
}

Deferred DeferredQueue::get() {
  State& s = *state_;
  if (!s.pending.empty()) {
    Value first = std::move(s.pending.front());
    s.pending.pop_front();
    return succeed(std::move(first));
  }
  if (s.backlog && s.waiting.size() >= *s.backlog) throw QueueUnderflow();
  Deferred d(LeaveQueue{state_});
  s.waiting.push_back(d);
  detail::DeferredAccess::state(d)->heldInQueue = true;
  return d;
}

const std::deque<Value>& DeferredQueue::pending() const noexcept { return state_->pending; }

std::size_t DeferredQueue::waiting() const noexcept { return state_->waiting.size(); }

void LeaveQueue::operator()(Deferred& d) const {
  auto s = state.lock();
  if (!s) return;
  // Not queued if the cycle collector emptied the line of a queue only
  // garbage refers to.
  auto queued = std::find(s->waiting.begin(), s->waiting.end(), d);
  if (queued == s->waiting.end()) return;
  s->waiting.erase(queued);
  detail::DeferredAccess::state(d)->heldInQueue = false;
}

DeferredQueue::~DeferredQueue() {
  if (!state_ || state_.use_count() == 1 || state_->waiting.empty()) return;
  // The queue may now be held only from a cycle through its line (a waiter
  // feeding a DeferredList that recorded the queue): have the cycle
  // collector look, from a waiter, once this handle is gone.
  detail::DeferredState* waiter = detail::DeferredAccess::state(state_->waiting.front());
  ++waiter->weak;
  state_.reset();
  if (!waiter->dead && detail::mayBeInCycle(waiter)) detail::suspectCycle(waiter);
  detail::releaseWeak(waiter);
}

}  // namespace deferred

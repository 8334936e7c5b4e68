#include "deferred/queue.h"

#include "line_holder.h"
#include "queue_state.h"

#include <utility>

namespace deferred {

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
  Deferred d(detail::LeaveLine<State>{state_});
  s.waiting.push_back(d);
  detail::DeferredAccess::state(d)->heldInQueue = true;
  return d;
}

const std::deque<Value>& DeferredQueue::pending() const noexcept { return state_->pending; }

std::size_t DeferredQueue::waiting() const noexcept { return state_->waiting.size(); }

DeferredQueue::~DeferredQueue() { detail::dropLineHolder(state_, &State::waiting); }

}  // namespace deferred

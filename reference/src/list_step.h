// DeferredList's member step, shared with the cycle collector in
// deferred.cpp (which follows a member's step to the list it feeds).
// Private to the library.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "deferred/list.h"

namespace deferred::detail {

// What the list keeps while its members fire (Twisted's resultList and
// finishedCount), and the list itself: members reach it through this.
struct ListState {
  unsigned references = 0;  // one per member step
  Deferred list;
  ListOptions options;
  ListResult results;
  std::size_t finished = 0;

  ListState() = default;
  ListState(const ListState&) = delete;
  ListState& operator=(const ListState&) = delete;
  // The list is no longer held by its state: the cycle collector need not
  // look at it for that link (it would otherwise explore every member).
  ~ListState() {
    if (DeferredState* s = DeferredAccess::state(list)) s->isList = false;
  }
};

// An owning reference to the ListState, one pointer wide so that a member's
// step (this plus an index) is stored without an allocation.
class ListRef {
public:
  explicit ListRef(ListState* state) noexcept : state_(state) { ++state_->references; }
  ListRef(const ListRef& other) noexcept : ListRef(other.state_) {}
  ListRef(ListRef&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  ListRef& operator=(const ListRef&) = delete;
  ListRef& operator=(ListRef&&) = delete;
  ~ListRef() {
    if (state_ == nullptr) return;
    if (--state_->references == 0) {
      delete state_;
    } else if (DeferredState* list = DeferredAccess::state(state_->list);
               list != nullptr && mayBeInCycle(list)) {
      // The list may now be held only by its remaining members' steps, in a
      // group of waiting links (a member waiting on the list, or the list on
      // a member): have the cycle collector look.
      suspectCycle(list);
    }
  }
  ListState& operator*() const noexcept { return *state_; }
  ListState* operator->() const noexcept { return state_; }

private:
  ListState* state_;
};

// Twisted adds _cbDeferred as both callback and errback of each member.
// Here a step on the member's state itself (DeferredAccess::addStateStep):
// it records the result where it is, without moving it out and back, and
// leaves it to the member's chain (null with consumeErrors).
struct MemberStep {
  ListRef state;
  std::size_t index;
  void operator()(DeferredState& member);
};

// A DeferredList's canceller: cancels the members that still exist. Weak,
// because a member's step holds the list.
struct CancelMembers {
  std::vector<WeakDeferred> members;
  void operator()(Deferred&);
};

}  // namespace deferred::detail

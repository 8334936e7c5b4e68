#include "deferred/list.h"

#include "list_step.h"

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace deferred {

using detail::CancelMembers;
using detail::ListRef;
using detail::ListState;
using detail::MemberStep;
using detail::WeakDeferred;

ValueList::ValueList(const ValueList& other) : std::vector<Value>() {
  reserve(other.size());
  for (const Value& v : other) push_back(v.copy());
}

ValueList& ValueList::operator=(const ValueList& other) {
  if (this != &other) *this = ValueList(other);
  return *this;
}

FirstError::FirstError(Failure subFailure, std::size_t index)
    : Error("FirstError[#" + std::to_string(index) + ", " +
            subFailure.toString() + "]"),
      subFailure_(std::move(subFailure)),
      index_(index) {}

namespace {

// A copy of a member's value, or why there is none.
Value recordOf(const Value& value) {
  try {
    return value.copy();
  } catch (...) {
    return Value(Failure::current());
  }
}

// Makes the null `record` the list's record of a member's value.
void recordInto(Value& record, const Value& value) {
  if (!detail::ValueAccess::copyTrivially(value, record)) record = recordOf(value);
}

// The list's reaction to a member's outcome when fireOnOneCallback or
// fireOnOneErrback asks for it.
void fireOnOne(ListState& s, std::size_t index, const detail::DeferredState& member,
               const ListEntry& entry) {
  if (member.kind == detail::ResultKind::Failure) {
    s.list.errback(Failure(FirstError(member.failure, index)));
  } else {
    // The entry stays valid: the results are only moved out on completion.
    Value first;
    recordInto(first, entry.result);
    s.list.callback(Value(FirstResult(std::move(first), index)));
  }
}

// Twisted's DeferredList._cbDeferred, minus what the member's chain gets:
// records the member's outcome (a copy of its result) at `index`, then fires
// the list if that completes it.
void record(ListState& s, std::size_t index, const detail::DeferredState& member) {
  const bool succeeded = member.kind != detail::ResultKind::Failure;
  const std::size_t slot =
      DEFERRED_MUTANT("list-completion-order") ? s.finished : index;
  ListEntry& entry = s.results[slot];  // each slot is recorded once: still null
  entry.success = succeeded;
  if (succeeded) [[likely]] {
    recordInto(entry.result, member.value);
  } else {
    entry.result = Value(member.failure);
  }
  ++s.finished;
  if (detail::DeferredAccess::state(s.list)->called) return;
  if (succeeded ? s.options.fireOnOneCallback
                : s.options.fireOnOneErrback &&
                      !DEFERRED_MUTANT("fire-on-one-errback-ignored")) [[unlikely]] {
    fireOnOne(s, index, member, entry);
  } else if (s.finished == s.results.size()) {
    s.list.callback(Value(std::move(s.results)));
  }
}


}  // namespace

namespace detail {

void CancelMembers::operator()(Deferred&) {
  for (const WeakDeferred& weak : members) {
    std::optional<Deferred> member = weak.lock();
    if (!member) continue;
    try {
      member->cancel();
    } catch (...) {
      detail::logError("Exception raised from user supplied canceller", Failure::current());
    }
  }
}

void MemberStep::operator()(DeferredState& member) {
  try {
    record(*state, index, member);
  } catch (const std::exception& error) {
    // Only allocations can fail there: the member's chain gets it, as a
    // handler's throw.
    FailureCapture::current(member, error);
    return;
  }
  if (member.kind == ResultKind::Failure && state->options.consumeErrors &&
      !DEFERRED_MUTANT("consume-errors-ignored")) {
    member.setNull();
  }
}

}  // namespace detail

Deferred deferredList(const std::vector<Deferred>& members, ListOptions options) {
  std::vector<WeakDeferred> weak;
  weak.reserve(members.size());
  for (const Deferred& m : members) weak.emplace_back(m);
  Deferred list(CancelMembers{std::move(weak)});
  detail::DeferredAccess::cancellerIsCancel(list, /*onlyWhilePending=*/true);
  detail::DeferredAccess::markList(list);

  // Owned by the member steps; with no members, by this function only.
  ListRef state(new ListState);
  state->list = list;
  state->options = options;
  state->results.resize(members.size());
  if (members.empty() && !options.fireOnOneCallback) {
    list.callback(Value(ListResult{}));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    detail::DeferredAccess::addStateStep(members[i], MemberStep{state, i});
  }
  return list;
}

Deferred gatherResults(const std::vector<Deferred>& members, bool consumeErrors) {
  ListOptions options;
  options.fireOnOneErrback = true;
  options.consumeErrors = consumeErrors;
  Deferred d = deferredList(members, options);
  d.addCallback([](ListResult&& results) {
    ValueList values;
    values.reserve(results.size());
    for (ListEntry& entry : results) values.push_back(std::move(entry.result));
    return values;
  });
  return d;
}

}  // namespace deferred

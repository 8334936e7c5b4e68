#include "deferred/list.h"

#include "list_step.h"

#include <memory>
#include <string>
#include <utility>

namespace deferred {

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

// The list's record of a member's value: a copy, or why there is none.
Value recordOf(const Value& value) {
  try {
    return value.copy();
  } catch (...) {
    return Value(Failure::current());
  }
}

// Twisted's DeferredList._cbDeferred, minus what the member's chain gets:
// records the member's outcome (a copy of `result`) at `index`, then fires
// the list if that completes it.
}  // namespace

namespace detail {

void record(ListState& s, std::size_t index, const Value& result, bool succeeded) {
  const std::size_t slot =
      DEFERRED_MUTANT("list-completion-order") ? s.finished : index;
  ListEntry& entry = s.results[slot];
  entry.success = succeeded;
  entry.result = recordOf(result);
  ++s.finished;
  if (s.list.called()) return;
  if (succeeded && s.options.fireOnOneCallback) {
    // The entry stays valid: the results are only moved out on completion.
    s.list.callback(Value(FirstResult(recordOf(entry.result), index)));
  } else if (!succeeded && s.options.fireOnOneErrback &&
             !DEFERRED_MUTANT("fire-on-one-errback-ignored")) {
    s.list.errback(Failure(FirstError(*result.getIf<Failure>(), index)));
  } else if (s.finished == s.results.size()) {
    s.list.callback(Value(std::move(s.results)));
  }
}

}  // namespace detail

namespace {

struct CancelMembers {
  std::vector<WeakDeferred> members;
  void operator()(Deferred&) {
    for (const WeakDeferred& weak : members) {
      std::optional<Deferred> member = weak.lock();
      if (!member) continue;
      try {
        member->cancel();
      } catch (...) {
        detail::logError("Exception raised from user supplied canceller",
                         Failure::current());
      }
    }
  }
};

}  // namespace

Deferred deferredList(std::vector<Deferred> members, ListOptions options) {
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
    members[i].addBoth(MemberStep{state, i});
  }
  return list;
}

Deferred gatherResults(std::vector<Deferred> members, bool consumeErrors) {
  ListOptions options;
  options.fireOnOneErrback = true;
  options.consumeErrors = consumeErrors;
  Deferred d = deferredList(std::move(members), options);
  d.addCallback([](ListResult&& results) {
    ValueList values;
    values.reserve(results.size());
    for (ListEntry& entry : results) values.push_back(std::move(entry.result));
    return values;
  });
  return d;
}

}  // namespace deferred

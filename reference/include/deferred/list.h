// deferred/list.h -- waiting for several Deferreds: DeferredList and
// gatherResults, with Twisted 22.4's semantics.
//
//   deferred::Deferred both = deferred::deferredList({fetchA(), fetchB()});
//   both.addCallback([](const deferred::ListResult& results) {
//     for (const deferred::ListEntry& r : results)
//       if (r.success) use(r.result); else log(r.result.get<deferred::Failure>());
//   });
//
// Both work by adding one step to each member when they are made (as in
// Twisted): steps added to a member before shape what the list sees; steps
// added after see what the list's step passes on (the member's own result, or
// null with consumeErrors).
#pragma once

#include <cstddef>
#include <vector>

#include "deferred/deferred.h"

namespace deferred {

// One member's outcome: Twisted's (success, result) pair. `result` is the
// member's value, or a Value holding its Failure when `success` is false.
struct ListEntry {
  bool success = false;
  Value result;

  ListEntry() = default;
  ListEntry(bool succeeded, Value value) noexcept
      : success(succeeded), result(std::move(value)) {}
  // Copies the result with Value::copy() (throws TypeMismatchError if the
  // held type is not copyable).
  ListEntry(const ListEntry& other) : success(other.success), result(other.result.copy()) {}
  ListEntry& operator=(const ListEntry& other) {
    if (this != &other) *this = ListEntry(other);
    return *this;
  }
  ListEntry(ListEntry&&) noexcept = default;
  ListEntry& operator=(ListEntry&&) noexcept = default;
};

// A DeferredList's result: one entry per member, in member order, whatever
// the order in which the members fired.
using ListResult = std::vector<ListEntry>;

// The result of a DeferredList with fireOnOneCallback: Twisted's
// (result, index) pair for the first member that succeeded.
struct FirstResult {
  Value result;
  std::size_t index = 0;

  FirstResult() = default;
  FirstResult(Value value, std::size_t i) noexcept : result(std::move(value)), index(i) {}
  FirstResult(const FirstResult& other) : result(other.result.copy()), index(other.index) {}
  FirstResult& operator=(const FirstResult& other) {
    if (this != &other) *this = FirstResult(other);
    return *this;
  }
  FirstResult(FirstResult&&) noexcept = default;
  FirstResult& operator=(FirstResult&&) noexcept = default;
};

// gatherResults' result: the members' values in member order. Copyable
// element by element with Value::copy().
class ValueList : public std::vector<Value> {
public:
  using std::vector<Value>::vector;
  ValueList() = default;
  ValueList(const ValueList& other);
  ValueList& operator=(const ValueList& other);
  ValueList(ValueList&&) noexcept = default;
  ValueList& operator=(ValueList&&) noexcept = default;
};

// The failure of a DeferredList with fireOnOneErrback (and of
// gatherResults): the first member's Failure and that member's index.
// what() is "FirstError[#INDEX, TYPE: MESSAGE]", as Twisted's str().
class FirstError : public Error {
public:
  FirstError(Failure subFailure, std::size_t index);
  const Failure& subFailure() const noexcept { return subFailure_; }
  std::size_t index() const noexcept { return index_; }

private:
  Failure subFailure_;
  std::size_t index_;
};

struct ListOptions {
  // Fire with FirstResult{value, index} on the first member that succeeds,
  // instead of waiting for all. With no members such a list never fires.
  bool fireOnOneCallback = false;
  // Errback with FirstError(failure, index) on the first member that fails.
  bool fireOnOneErrback = false;
  // Each member's failure, once recorded, becomes null on the member's own
  // chain (so it is not reported as unhandled there).
  bool consumeErrors = false;
};

// Twisted's DeferredList: a Deferred that fires with a ListResult once every
// member has a result (at once if there are no members), never errbacks on
// its own unless fireOnOneErrback is set, and fires at most once: member
// results after it fired are ignored. The list records a copy of each
// member's result (Python shares the object); a result that cannot be copied
// is recorded as a Failure(TypeMismatchError).
//
// cancel() on the returned Deferred, while it has not fired, cancels every
// member that still exists, in order, and does nothing else: the list then
// fires from the members' outcomes as usual. A member's canceller that throws
// does not stop the others (the exception goes to the error-log sink, see
// setErrorLogSink, as Twisted logs it). Once the list has fired, cancel() does nothing.
//
// Ownership: each member holds the list until it fires; the list does not
// keep its members alive.
Deferred deferredList(const std::vector<Deferred>& members, ListOptions options = {});

// Twisted's gatherResults: a DeferredList with fireOnOneErrback whose result
// is turned into a ValueList of the members' values. Fails with FirstError on
// the first member failure. cancel() as for deferredList().
Deferred gatherResults(const std::vector<Deferred>& members, bool consumeErrors = false);

}  // namespace deferred

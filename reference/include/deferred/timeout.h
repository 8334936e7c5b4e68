// deferred/timeout.h -- time: a small clock interface, a deterministic
// manual clock for tests (Twisted's task.Clock), and addTimeout().
//
//   deferred::ManualClock clock;
//   deferred::Deferred d = fetch();
//   deferred::addTimeout(d, 10, clock);     // cancelled if no result by t = 10
//   d.addErrback([](const deferred::Failure& f) { f.trap<deferred::TimeoutError>(); });
//   clock.advance(15);                      // d errbacks with TimeoutError
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "deferred/deferred.h"

namespace deferred {

// addTimeout() timed the Deferred out (Twisted's defer.TimeoutError).
class TimeoutError : public Error {
public:
  explicit TimeoutError(double seconds);
  double seconds() const noexcept { return seconds_; }

private:
  double seconds_;
};

// A call scheduled on a Clock.
class DelayedCall {
public:
  virtual ~DelayedCall() = default;
  // Neither run nor cancelled yet.
  virtual bool active() const noexcept = 0;
  // Unschedules the call (and releases the function); no effect if the call
  // is no longer active.
  virtual void cancel() noexcept = 0;
};

// What addTimeout() needs of an event loop: the time, and running a
// function later. Implement it over your loop's timers.
class Clock {
public:
  virtual ~Clock() = default;
  // Seconds since an arbitrary origin; never decreases.
  virtual double seconds() const noexcept = 0;
  // Runs `function` once, `delay` seconds from now (from the loop, never
  // from within this call).
  virtual std::shared_ptr<DelayedCall> callLater(double delay,
                                                 std::function<void()> function) = 0;
};

// A clock that only moves when told to (Twisted's task.Clock): deterministic
// time for tests. Starts at 0.
class ManualClock final : public Clock {
public:
  ManualClock() = default;
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;
  // Pending calls are dropped without running; cancelling one meanwhile (from
  // the destructor of something a dropped call held) does nothing.
  ~ManualClock() override;

  double seconds() const noexcept override { return now_; }
  std::shared_ptr<DelayedCall> callLater(double delay,
                                         std::function<void()> function) override;

  // Moves time forward by `amount` seconds, then runs every call now due, in
  // order of due time (calls due at the same time in the order they were
  // scheduled), including calls those schedule that are due by then. An
  // exception thrown by a call propagates; the calls after it stay pending.
  void advance(double amount);

  // Number of calls scheduled and not yet run or cancelled.
  std::size_t pendingCalls() const noexcept;

private:
  class Call;
  double now_ = 0;
  std::vector<std::shared_ptr<Call>> calls_;  // sorted by due time, stable
};

// What to make of the result when addTimeout() timed the Deferred out:
// called with the result at that point (usually a Value holding the
// CancelledError Failure) and the timeout; its return value (a Failure
// keeps the error path) continues down the chain. It may throw.
using OnTimeoutCancel = std::function<Value(Value result, double seconds)>;

// Twisted's Deferred.addTimeout: schedules d.cancel() on `clock` in
// `seconds` seconds, then adds two steps to `d`: one that, if the timeout
// fired, converts the result with `onTimeoutCancel` (by default: a
// CancelledError Failure becomes TimeoutError(seconds), any other Failure
// stays, a value passes), and one that unschedules the timer when the
// result arrives first. So the timeout covers the steps added before, and
// only the steps added after see TimeoutError. Returns `d`.
//
// The scheduled call holds `d` until it runs or is unscheduled; `clock` must
// outlive the timer.
Deferred& addTimeout(Deferred& d, double seconds, Clock& clock,
                     OnTimeoutCancel onTimeoutCancel = {});

}  // namespace deferred

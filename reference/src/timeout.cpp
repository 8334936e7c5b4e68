#include "deferred/timeout.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace deferred {

namespace {

std::string timeoutMessage(double seconds) {
  std::ostringstream text;
  text << "Deferred timed out after " << seconds << " seconds";
  return text.str();
}

}  // namespace

TimeoutError::TimeoutError(double seconds)
    : Error(timeoutMessage(seconds)), seconds_(seconds) {}

// --- ManualClock -----------------------------------------------------------------

class ManualClock::Call final : public DelayedCall {
public:
  Call(ManualClock& clock, double due, std::function<void()> function)
      : clock_(&clock), due_(due), function_(std::move(function)) {}

  bool active() const noexcept override { return clock_ != nullptr; }

  void cancel() noexcept override {
    if (clock_ == nullptr) return;
    ManualClock* clock = std::exchange(clock_, nullptr);
    auto& calls = clock->calls_;
    calls.erase(std::find_if(calls.begin(), calls.end(),
                             [this](const auto& c) { return c.get() == this; }));
    function_ = nullptr;
  }

  double due() const noexcept { return due_; }

  // Removes itself from the clock, then runs.
  void run() {
    clock_ = nullptr;
    std::function<void()> function = std::move(function_);
    function();
  }

  // Leaves the clock: cancel() does nothing from now on.
  void detach() noexcept { clock_ = nullptr; }
  // Lets the function (and what it holds) go.
  void drop() noexcept { function_ = nullptr; }

private:
  ManualClock* clock_;  // null once run or cancelled
  double due_;
  std::function<void()> function_;
};

ManualClock::~ManualClock() {
  // All leave before any function goes: dropping one may release a Deferred
  // whose handlers cancel another call, or schedule a new one (found by the
  // scenario fuzzer).
  while (!calls_.empty()) {
    std::vector<std::shared_ptr<Call>> calls = std::exchange(calls_, {});
    for (auto& call : calls) call->detach();
    for (auto& call : calls) call->drop();
  }
}

std::shared_ptr<DelayedCall> ManualClock::callLater(double delay,
                                                    std::function<void()> function) {
  auto call = std::make_shared<Call>(*this, now_ + delay, std::move(function));
  // After every call due at the same time or earlier: FIFO among equals.
  auto at = std::upper_bound(calls_.begin(), calls_.end(), call->due(),
                             [](double due, const auto& c) { return due < c->due(); });
  calls_.insert(at, call);
  return call;
}

void ManualClock::advance(double amount) {
  now_ += amount;
  while (!calls_.empty() && calls_.front()->due() <= now_) {
    std::shared_ptr<Call> call = calls_.front();
    calls_.erase(calls_.begin());
    call->run();
  }
}

std::size_t ManualClock::pendingCalls() const noexcept { return calls_.size(); }

// --- addTimeout --------------------------------------------------------------------

Deferred& addTimeout(Deferred& d, double seconds, Clock& clock,
                     OnTimeoutCancel onTimeoutCancel) {
  auto timedOut = std::make_shared<bool>(false);
  std::shared_ptr<DelayedCall> timer =
      clock.callLater(seconds, [timedOut, target = d]() mutable {
        *timedOut = true;
        target.cancel();
      });
  d.addBoth([timedOut, seconds,
             convert = std::move(onTimeoutCancel)](Value result) -> Value {
    if (!*timedOut) return result;
    if (convert) return convert(std::move(result), seconds);
    if (const Failure* failure = result.getIf<Failure>()) {
      (void)failure->trap<CancelledError>();  // another Failure stays as is
      throw TimeoutError(seconds);
    }
    return result;
  });
  d.addBoth([timer = std::move(timer)](Value result) {
    if (timer->active()) timer->cancel();
    return result;
  });
  return d;
}

}  // namespace deferred

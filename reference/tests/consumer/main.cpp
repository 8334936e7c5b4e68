// Uses the installed package the way a downstream project would.
#include <deferred/coroutine.h>
#include <deferred/deferred.h>
#include <deferred/lock.h>
#include <deferred/queue.h>

#include <string>

namespace {
// A coroutine over a queue, under a lock (deferred/coroutine.h, lock.h, queue.h).
deferred::Deferred takeTwo(deferred::DeferredQueue q, deferred::DeferredLock lock) {
  co_await lock.acquire();
  int a = co_await deferred::as<int>(q.get());
  int b = co_await deferred::as<int>(q.get());
  lock.release();
  co_return a + b;
}
}  // namespace

int main() {
  deferred::Deferred d;
  std::string seen;
  d.addCallback([](int x) { return x * 2; })
      .addCallback([&](int x) { seen = std::to_string(x); });
  d.callback(21);

  deferred::DeferredQueue q;
  deferred::DeferredLock lock;
  deferred::Deferred sum = takeTwo(q, lock);
  q.put(20);
  q.put(22);
  const bool coroutineOk = sum.hasResult() && sum.result().get<int>() == 42 && !lock.locked();
  return seen == "42" && coroutineOk ? 0 : 1;
}

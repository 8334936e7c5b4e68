// README: DeferredList over two fetches, one of which times out.
#include <deferred/deferred.h>
#include <deferred/list.h>
#include <deferred/timeout.h>

#include <iostream>
#include <string>

int main() {
  // [readme]
  deferred::ManualClock clock;
  deferred::Deferred fetchA, fetchB;
  deferred::addTimeout(fetchB, 5, clock);  // cancelled if no result by t = 5
  deferred::deferredList({fetchA, fetchB}, {.consumeErrors = true})
      .addCallback([](const deferred::ListResult& results) {
        for (const deferred::ListEntry& r : results) {  // in member order
          if (r.success) std::cout << "ok: " << r.result.get<std::string>() << "\n";
          else std::cout << "failed: " << r.result.get<deferred::Failure>().message() << "\n";
        }
      });
  fetchA.callback(std::string("page A"));  // the list waits for both...
  clock.advance(5);  // ...fetchB times out: prints "ok: page A", then
                     // "failed: Deferred timed out after 5 seconds"
  // [/readme]
}
// expected output:
// ok: page A
// failed: Deferred timed out after 5 seconds

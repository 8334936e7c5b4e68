// README: a coroutine awaiting two Deferreds, the second of which fails.
#include <deferred/coroutine.h>
#include <deferred/deferred.h>

#include <iostream>
#include <stdexcept>
#include <string>

// [readme]
deferred::Deferred fetchBoth(deferred::Deferred a, deferred::Deferred b) {
  std::string first = co_await deferred::as<std::string>(a);  // typed; `co_await a`: a Value
  try {
    co_await b;                               // suspends until b fires
  } catch (const std::runtime_error& e) {     // b's failure, as its own type
    co_return first + ", but b failed: " + e.what();
  }
  co_return first + " and b";
}
// [/readme]

int main() {
  // [readme]
  deferred::Deferred a, b;
  fetchBoth(a, b).addCallback([](const std::string& s) { std::cout << s << "\n"; });
  a.callback(std::string("a"));
  b.errback(std::runtime_error("timeout"));  // prints "a, but b failed: timeout"
  // [/readme]
}
// expected output:
// a, but b failed: timeout

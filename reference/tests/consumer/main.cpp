// Uses the installed package the way a downstream project would.
#include <deferred/deferred.h>

#include <string>

int main() {
  deferred::Deferred d;
  std::string seen;
  d.addCallback([](int x) { return x * 2; })
      .addCallback([&](int x) { seen = std::to_string(x); });
  d.callback(21);
  return seen == "42" ? 0 : 1;
}

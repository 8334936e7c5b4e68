// The KJ adapter used in process, without the runner: build a program in the
// step language, run it, look at the observations. This is all a C++ test of
// your own adapter needs (conform does the same for every spec case).
#include <iostream>

#include "kj_adapter.h"

using nlohmann::json;

int main() {
  auto impl = kj_conformance::make_kj_implementation();
  const auto info = impl->info();
  if (info.name != "kj" || !info.features.count("core") || info.features.count("synchronous")) {
    std::cerr << "unexpected info()\n";
    return 1;
  }
  // spec/rules/errbacks.yaml, errback.recovers-on-non-failure/returns-value
  const json program = json::parse(R"([
    {"op": "new", "name": "d"},
    {"op": "addErrback", "target": "d", "label": "eb", "do": [{"return": "recovered"}]},
    {"op": "addCallback", "target": "d", "label": "cb", "do": ["returnArgument"]},
    {"op": "mark", "label": "before"},
    {"op": "errback", "target": "d", "error": "TestError", "message": "boom"}
  ])");
  const json expected = json::parse(R"({
    "trace": [{"mark": "before"},
              {"call": "eb", "arg": {"$failure": "TestError", "message": "boom"}},
              {"call": "cb", "arg": "recovered"}],
    "final": {"d": {"state": "fired", "result": "recovered"}}
  })");
  const auto outcome = impl->run("example", program);
  if (outcome.kind != conformance::Outcome::Kind::observed || outcome.observations != expected) {
    std::cerr << "observed: " << (outcome.kind == conformance::Outcome::Kind::observed ? outcome.observations.dump()
                                                                                       : outcome.message)
              << "\nexpected: " << expected.dump() << "\n";
    return 1;
  }
  // A step KJ cannot express is errored, never faked.
  const auto paused = impl->run("pause", json::parse(R"([{"op": "new", "name": "d"}, {"op": "pause", "target": "d"}])"));
  if (paused.kind != conformance::Outcome::Kind::errored) {
    std::cerr << "pause should be errored\n";
    return 1;
  }
  std::cout << "kj adapter in process: ok\n";
  return 0;
}

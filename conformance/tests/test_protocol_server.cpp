// serve(): an in-process Implementation behind the driver protocol
// (PROTOCOL.md), one response line per request.
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "conformance/protocol_server.h"

using namespace conformance;
using nlohmann::json;

namespace {

// Observes each program as its own trace; misbehaves on request by case id.
class Scripted : public Implementation {
 public:
  ImplementationInfo info_{"scripted", "1.0", "c++", "", {"core"}};
  bool info_throws = false;
  ImplementationInfo info() override {
    if (info_throws) throw SetupError("library missing");
    return info_;
  }
  Outcome run(const std::string& id, const json& program) override {
    if (id == "skip") return Outcome::skipped("why");
    if (id == "error") return Outcome::errored("unknown step op: frob");
    if (id == "throw") throw std::runtime_error("boom");
    if (id == "throw-int") throw 42;
    return Outcome::observed({{"trace", program}, {"final", json::object()}});
  }
};

struct Served {
  int status;
  std::vector<json> responses;
};

Served serve_lines(Implementation& impl, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  Served s{serve(impl, in, out), {}};
  std::istringstream lines(out.str());
  for (std::string l; std::getline(lines, l);) s.responses.push_back(json::parse(l));
  return s;
}

const std::string kStart = "{\"cmd\":\"start\",\"protocol\":1}\n";

}  // namespace

TEST(ProtocolServer, Serves) {
  Scripted e;
  const Served s = serve_lines(e, kStart +
                                      "{\"cmd\":\"run\",\"seq\":1,\"case\":\"c\",\"program\":[1]}\n"
                                      "{\"cmd\":\"run\",\"seq\":2,\"case\":\"skip\",\"program\":[]}\n"
                                      "not json\n{\"cmd\":\"stop\"}\n{\"cmd\":\"run\",\"seq\":3}\n");
  EXPECT_EQ(s.status, 0);
  ASSERT_EQ(s.responses.size(), 4u);  // nothing after stop
  EXPECT_EQ(s.responses[0], json::parse(R"({"protocol": 1, "features": ["core"],
      "implementation": {"name": "scripted", "version": "1.0", "language": "c++"}})"));
  EXPECT_EQ(s.responses[1], json::parse(R"({"seq": 1, "outcome": "observed",
      "observations": {"trace": [1], "final": {}}})"));
  EXPECT_EQ(s.responses[2], json::parse(R"({"seq": 2, "outcome": "skipped", "reason": "why"})"));
  EXPECT_EQ(s.responses[3], json::parse(R"({"error": "malformed request"})"));
}

TEST(ProtocolServer, ErrorsOfTheImplementationAreErroredOutcomes) {
  Scripted e;
  const Served s = serve_lines(e, kStart +
                                      "{\"cmd\":\"run\",\"seq\":1,\"case\":\"error\",\"program\":[]}\n"
                                      "{\"cmd\":\"run\",\"seq\":2,\"case\":\"throw\",\"program\":[]}\n"
                                      "{\"cmd\":\"run\",\"seq\":3,\"case\":\"throw-int\",\"program\":[]}\n");
  EXPECT_EQ(s.status, 0);  // end of input: as stop
  ASSERT_EQ(s.responses.size(), 4u);
  EXPECT_EQ(s.responses[1], json::parse(R"({"seq": 1, "outcome": "errored", "message": "unknown step op: frob"})"));
  EXPECT_EQ(s.responses[2], json::parse(R"({"seq": 2, "outcome": "errored", "message": "exception: boom"})"));
  EXPECT_EQ(s.responses[3], json::parse(R"({"seq": 3, "outcome": "errored", "message": "unknown exception"})"));
}

TEST(ProtocolServer, MalformedAndUnknownRequests) {
  Scripted e;
  const Served s = serve_lines(e, kStart +
                                      "\n[1]\n{\"seq\":1}\n{\"cmd\":7}\n"
                                      "{\"cmd\":\"bench\",\"seq\":2,\"workload\":\"chain\",\"n\":10,\"repeat\":1}\n"
                                      "{\"cmd\":\"frob\",\"seq\":3}\n");
  ASSERT_EQ(s.responses.size(), 6u);  // the empty line is skipped
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(s.responses[i], json::parse(R"({"error": "malformed request"})"));
  EXPECT_EQ(s.responses[4],
            json::parse(R"({"seq": 2, "outcome": "skipped", "reason": "bench is not supported by this driver"})"));
  EXPECT_EQ(s.responses[5], json::parse(R"({"seq": 3, "outcome": "errored", "message": "unknown command: frob"})"));
}

TEST(ProtocolServer, TheHandshakeRefusesOtherVersionsAndFailedSetUps) {
  Scripted e;
  Served s = serve_lines(e, "{\"cmd\":\"start\",\"protocol\":2}\n" + kStart);
  EXPECT_EQ(s.status, 1);
  ASSERT_EQ(s.responses.size(), 1u);  // exits: the second start is not read
  EXPECT_EQ(s.responses[0], json::parse(R"({"error": "only protocol version 1 is supported"})"));

  s = serve_lines(e, "{\"cmd\":\"start\"}\n");
  EXPECT_EQ(s.status, 1);
  EXPECT_EQ(s.responses.at(0), json::parse(R"({"error": "only protocol version 1 is supported"})"));

  e.info_throws = true;
  s = serve_lines(e, kStart);
  EXPECT_EQ(s.status, 1);
  EXPECT_EQ(s.responses.at(0), json::parse(R"({"error": "library missing"})"));
}

TEST(ProtocolServer, TheHomepageIsSentWhenKnown) {
  Scripted e;
  e.info_.homepage = "https://example.org";
  const Served s = serve_lines(e, kStart);
  EXPECT_EQ(s.responses.at(0)["implementation"]["homepage"], "https://example.org");
}

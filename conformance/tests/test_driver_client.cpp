#include <gtest/gtest.h>

#include <chrono>

#include "conformance/driver_client.h"

using namespace conformance;
using nlohmann::json;

namespace {

DriverOptions fake(const std::string& mode, double timeout = 1) {
  DriverOptions o;
  o.command = {CT_PYTHON, CT_FAKE_DRIVER, "--mode", mode};
  o.timeout_seconds = timeout;
  return o;
}

const json kProgram = json::parse(R"([{"op": "new", "name": "d"}])");

struct Misbehaviour {
  const char* mode;
  const char* reason;
};

class DriverModes : public ::testing::TestWithParam<Misbehaviour> {};

}  // namespace

TEST(DriverClient, HappyPath) {
  DriverClient c(fake("ok"));
  auto info = c.info();
  EXPECT_EQ(info.name, "fake");
  EXPECT_EQ(info.features, std::set<std::string>{"core"});
  for (int i = 0; i < 50; ++i) {
    auto o = c.run("x/" + std::to_string(i), kProgram);
    ASSERT_EQ(o.kind, Outcome::Kind::observed) << o.message;
    EXPECT_EQ(o.observations["trace"][0]["mark"], "x/" + std::to_string(i));
  }
  EXPECT_EQ(c.restarts(), 0);
}

TEST_P(DriverModes, CaseErrorsAndRunContinues) {
  const auto p = GetParam();
  const auto t0 = std::chrono::steady_clock::now();
  DriverClient c(fake(p.mode));
  c.info();
  EXPECT_EQ(c.run("a/before", kProgram).kind, Outcome::Kind::observed);
  auto bad = c.run("a/victim", kProgram);
  EXPECT_EQ(bad.kind, Outcome::Kind::errored);
  EXPECT_NE(bad.message.find(p.reason), std::string::npos) << bad.message;
  auto after = c.run("a/after", kProgram);
  EXPECT_EQ(after.kind, Outcome::Kind::observed) << after.message;
  EXPECT_EQ(after.observations["trace"][0]["mark"], "a/after");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(6));
}

INSTANTIATE_TEST_SUITE_P(
    Fake, DriverModes,
    ::testing::Values(Misbehaviour{"crash", "driver crashed without answering: exited with status 3"},
                      Misbehaviour{"segv", "killed by signal 11"},
                      Misbehaviour{"hang", "driver timed out: no response within 1 s"},
                      Misbehaviour{"hang-child", "driver timed out"},
                      Misbehaviour{"garbage", "not a JSON object"},
                      Misbehaviour{"huge", "longer than 16 MiB"},
                      Misbehaviour{"wrong-seq", "driver answered with seq"},
                      Misbehaviour{"close-stdout", "closed its standard output"},
                      Misbehaviour{"exit", "driver crashed without answering: exited with status 0"},
                      Misbehaviour{"errored", "driver could not run the case: unknown step op: frobnicate"}),
    [](const auto& info) {
      std::string n = info.param.mode;
      for (auto& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

TEST(DriverClient, StderrTailIsKept) {
  DriverClient c(fake("crash"));
  c.info();
  auto o = c.run("v/victim", kProgram);
  EXPECT_NE(o.details.find("fake driver: crashing now"), std::string::npos) << o.details;
  EXPECT_NE(o.details.find("driver output: {\"seq\": 1, \"outc"), std::string::npos) << o.details;
}

TEST(DriverClient, FloodAndSlowAreFine) {
  for (const char* mode : {"flood", "slow"}) {
    DriverClient c(fake(mode, 5));
    c.info();
    auto o = c.run("v/victim", kProgram);
    EXPECT_EQ(o.kind, Outcome::Kind::observed) << mode << ": " << o.message;
    EXPECT_LE(c.stderr_tail().size(), 2 * 4096u);
  }
}

TEST(DriverClient, HandshakeFailures) {
  for (const char* mode :
       {"handshake-version", "handshake-error", "handshake-hang", "handshake-garbage", "handshake-exit"}) {
    DriverClient c(fake(mode));
    EXPECT_THROW(c.info(), SetupError) << mode;
  }
  DriverOptions o;
  o.command = {"/nonexistent/driver"};
  DriverClient missing(o);
  EXPECT_THROW(missing.info(), SetupError);
}

TEST(DriverClient, GivesUpAfterFailedRestarts) {
  // The driver crashes at the handshake after the first start: mode applies to every case.
  DriverClient c(fake("exit"));
  c.info();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.run("v/victim", kProgram).kind, Outcome::Kind::errored);
}

TEST(SplitCommand, ShellLike) {
  EXPECT_EQ(split_command("python3 'a b' \"c \\\"d\\\"\" e\\ f"),
            (std::vector<std::string>{"python3", "a b", "c \"d\"", "e f"}));
  EXPECT_THROW(split_command("a 'b"), std::invalid_argument);
}

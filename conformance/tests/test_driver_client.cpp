#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

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

namespace {
// The fake driver with `first` arguments at its first start and `later` ones
// at every restart (a marker file tells them apart); removes the marker.
struct ChangingDriver {
  std::string marker = (std::filesystem::temp_directory_path() /
                        ("conform-restart-" + std::to_string(::getpid()))).string();
  DriverOptions options;
  ChangingDriver(const std::string& first, const std::string& later) {
    std::filesystem::remove(marker);
    const std::string fake = std::string(CT_PYTHON) + " " + CT_FAKE_DRIVER;
    options.command = {"sh", "-c", "if [ -e '" + marker + "' ]; then exec " + fake + " " + later + "; fi; touch '" +
                                       marker + "'; exec " + fake + " " + first};
    options.timeout_seconds = 2;
  }
  ~ChangingDriver() { std::filesystem::remove(marker); }
};
}  // namespace

TEST(DriverClient, GivesUpAfterFailedRestarts) {
  // The victim case kills the driver; every restart then fails its handshake.
  ChangingDriver driver("--mode exit", "--mode handshake-exit");
  DriverClient c(driver.options);
  c.info();
  EXPECT_EQ(c.run("v/victim", kProgram).message, "driver crashed without answering: exited with status 0");
  for (int i = 1; i <= driver.options.max_failed_restarts; ++i) {
    const Outcome o = c.run("v/after", kProgram);
    EXPECT_EQ(o.kind, Outcome::Kind::errored);
    EXPECT_EQ(o.message.rfind("driver restart failed: driver handshake failed: driver crashed without answering: "
                              "exited with status 4", 0), 0u) << o.message;
  }
  const Outcome dead = c.run("v/after", kProgram);
  EXPECT_EQ(dead.message.rfind("driver unavailable: 3 restarts failed in a row; last: driver handshake failed", 0), 0u)
      << dead.message;
  EXPECT_EQ(c.restarts(), 3);
}

TEST(DriverClient, ARestartedDriverMustPresentTheSameFeatures) {
  ChangingDriver driver("--mode exit", "--mode exit --features core,pause");
  DriverClient c(driver.options);
  c.info();
  EXPECT_EQ(c.run("v/victim", kProgram).kind, Outcome::Kind::errored);
  const Outcome o = c.run("v/after", kProgram);
  EXPECT_EQ(o.message.rfind("driver restart failed: driver handshake failed: the restarted driver presents a "
                            "different implementation or features", 0), 0u) << o.message;
}

TEST(DriverResponses, RefusedWithTheReason) {
  EXPECT_EQ(parse_start_response(R"({"protocol": 1, "implementation": {}, "features": []})").error,
            "the response lacks implementation.name");
  EXPECT_EQ(parse_start_response(R"({"protocol": 1, "implementation": {"name": "x"}})").error,
            "the response lacks a features list");
  EXPECT_EQ(parse_start_response(R"({"protocol": 1, "implementation": {"name": "x"}, "features": [1]})").error,
            "features must be strings");
  EXPECT_EQ(parse_run_response(R"({"outcome": "observed"})", 7).error, "driver response has no seq (expected 7)");
  EXPECT_EQ(parse_run_response(R"({"seq": 7, "outcome": "exploded"})", 7).error,
            "driver response has an unknown outcome 'exploded'");
  EXPECT_EQ(parse_run_response(R"({"seq": 7})", 7).error, "driver response has no outcome");
  EXPECT_EQ(parse_run_response(R"({"seq": 7, "outcome": "observed"})", 7).error,
            "driver response lacks an observations object");
}

TEST(SplitCommand, ShellLike) {
  EXPECT_EQ(split_command("python3 'a b' \"c \\\"d\\\"\" e\\ f"),
            (std::vector<std::string>{"python3", "a b", "c \"d\"", "e f"}));
  EXPECT_THROW(split_command("a 'b"), std::invalid_argument);
}

// Debug mode: where Deferreds were created and first fired.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using deferred::Deferred;
using deferred::Failure;

namespace {
struct DebugMode : ::testing::Test {
  void SetUp() override { deferred::setDebugging(true); }
  void TearDown() override { deferred::setDebugging(false); }
};
}  // namespace

TEST_F(DebugMode, AlreadyCalledErrorNamesCreationAndFirstFiring) {
  Deferred d;                 // the line the message must name
  const int created = __LINE__ - 1;
  d.callback(1);
  const int fired = __LINE__ - 1;
  try {
    d.callback(2);
    FAIL() << "expected AlreadyCalledError";
  } catch (const deferred::AlreadyCalledError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("debug_test.cpp:" + std::to_string(created)), std::string::npos) << what;
    EXPECT_NE(what.find("first fired at"), std::string::npos) << what;
    EXPECT_NE(what.find("debug_test.cpp:" + std::to_string(fired)), std::string::npos) << what;
    EXPECT_NE(what.find("called again at"), std::string::npos) << what;
  }
}

TEST_F(DebugMode, UnhandledErrorReportCarriesTheOrigin) {
  std::string origin;
  auto previous = deferred::setUnhandledErrorSink(
      [&](const Failure&) { origin = deferred::unhandledErrorOrigin(); });
  {
    Deferred d;
    d.errback(std::runtime_error("lost"));
  }
  deferred::setUnhandledErrorSink(previous);
  EXPECT_NE(origin.find("created at"), std::string::npos) << origin;
  EXPECT_NE(origin.find("first fired at"), std::string::npos) << origin;
  EXPECT_TRUE(deferred::unhandledErrorOrigin().empty());  // only during the call
}

TEST(DebugModeOff, NothingIsRecorded) {
  ASSERT_FALSE(deferred::debugging());
  Deferred d;
  d.callback(1);
  try {
    d.callback(2);
  } catch (const deferred::AlreadyCalledError& e) {
    EXPECT_EQ(std::string(e.what()), "Deferred has already been called");
  }
  std::string origin = "unset";
  auto previous = deferred::setUnhandledErrorSink(
      [&](const Failure&) { origin = deferred::unhandledErrorOrigin(); });
  deferred::fail(std::runtime_error("lost"));
  deferred::setUnhandledErrorSink(previous);
  EXPECT_EQ(origin, "");
}

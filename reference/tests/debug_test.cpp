// Debug mode: where Deferreds were created and first fired (Twisted's
// setDebugging / DebugInfo).
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <string>

using deferred::Deferred;
using deferred::Failure;

namespace {
struct DebugMode : ::testing::Test {
  void SetUp() override { deferred::setDebugging(true); }
  void TearDown() override { deferred::setDebugging(false); }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `label` (e.g. "created at") followed by this file's path, `line` and " in ".
bool names(const std::string& text, const std::string& label, int line) {
  return std::regex_search(
      text, std::regex(label + " [^ ]*debug_test\\.cpp:" + std::to_string(line) + " in "));
}

// The origin reported for the unhandled Failure of whatever `body` drops.
template <class Body>
std::string reportedOrigin(Body&& body) {
  std::string origin = "no report";
  auto previous = deferred::setUnhandledErrorSink(
      [&](const Failure&) { origin = deferred::unhandledErrorOrigin(); });
  body();
  deferred::setUnhandledErrorSink(previous);
  return origin;
}
}  // namespace

TEST_F(DebugMode, IsARuntimeSwitch) {
  EXPECT_TRUE(deferred::debugging());
  deferred::setDebugging(false);
  EXPECT_FALSE(deferred::debugging());
}

TEST_F(DebugMode, AlreadyCalledErrorNamesCreationAndFirstFiring) {
  Deferred d;                 // the line the message must name
  const int created = __LINE__ - 1;
  d.callback(1);
  const int fired = __LINE__ - 1;
  try {
    d.callback(2);
    const int again = __LINE__ - 1;
    FAIL() << "expected AlreadyCalledError" << again;
  } catch (const deferred::AlreadyCalledError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(names(what, "created at", created)) << what;
    EXPECT_TRUE(names(what, "first fired at", fired)) << what;
    EXPECT_TRUE(names(what, "called again at", fired + 3)) << what;
    EXPECT_TRUE(contains(what, "TestBody")) << what;  // the function's name
  }
}

TEST_F(DebugMode, ErrbackSucceedAndFailRecordTheCallersLocation) {
  Deferred d;
  d.errback(std::runtime_error("first"));
  const int failed = __LINE__ - 1;
  d.addErrback([](const Failure&) {});
  try {
    d.errback(std::runtime_error("second"));
  } catch (const deferred::AlreadyCalledError& e) {
    EXPECT_TRUE(names(e.what(), "first fired at", failed)) << e.what();
  }
  Deferred s = deferred::succeed(1);
  const int made = __LINE__ - 1;
  try {
    s.callback(2);
  } catch (const deferred::AlreadyCalledError& e) {
    EXPECT_TRUE(names(e.what(), "created at", made)) << e.what();
    EXPECT_TRUE(names(e.what(), "first fired at", made)) << e.what();
  }
}

TEST_F(DebugMode, TheErrorIsStillAnAlreadyCalledError) {
  Deferred d = deferred::succeed(1);
  try {
    d.callback(2);
  } catch (...) {
    Failure f = Failure::current();
    EXPECT_EQ(f.trap<deferred::AlreadyCalledError>(), 0u);
  }
}

TEST_F(DebugMode, UnhandledErrorReportCarriesTheOrigin) {
  int created = 0, fired = 0;
  std::string origin = reportedOrigin([&] {
    Deferred d;
    created = __LINE__ - 1;
    d.errback(std::runtime_error("lost"));
    fired = __LINE__ - 1;
  });
  EXPECT_TRUE(names(origin, "^created at", created)) << origin;
  EXPECT_TRUE(names(origin, "; first fired at", fired)) << origin;
  EXPECT_TRUE(deferred::unhandledErrorOrigin().empty());  // only during the call
}

TEST_F(DebugMode, TheDefaultSinkPrintsTheOrigin) {
  testing::internal::CaptureStderr();
  { deferred::fail(std::runtime_error("lost")); }
  const int line = __LINE__ - 1;
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(printed, "Unhandled error in Deferred:")) << printed;
  EXPECT_TRUE(contains(printed, "std::runtime_error: lost")) << printed;
  EXPECT_TRUE(names(printed, "\\(created at", line)) << printed;
}

TEST_F(DebugMode, FiringWhileOnRecordsTheInvokerOfADeferredMadeWhileOff) {
  deferred::setDebugging(false);
  Deferred d;
  deferred::setDebugging(true);  // as Twisted: the invoker is recorded at fire time
  d.callback(1);
  const int fired = __LINE__ - 1;
  try {
    d.callback(2);
  } catch (const deferred::AlreadyCalledError& e) {
    const std::string what = e.what();
    EXPECT_FALSE(contains(what, "created at")) << what;
    EXPECT_TRUE(names(what, "\\(first fired at", fired)) << what;
  }
}

TEST_F(DebugMode, MadeWhileOnButFiredWhileOffRecordsOnlyTheCreation) {
  int created = 0;
  std::string origin = reportedOrigin([&] {
    Deferred d;
    created = __LINE__ - 1;
    deferred::setDebugging(false);
    d.errback(std::runtime_error("lost"));
  });
  EXPECT_TRUE(names(origin, "created at", created)) << origin;
  EXPECT_FALSE(contains(origin, "first fired")) << origin;
}

// Twisted checks Deferred.debug when raising: switched off since, the
// error is the plain one, whatever was recorded.
TEST_F(DebugMode, AlreadyCalledErrorWhileOffIsPlainForADeferredMadeWhileOn) {
  Deferred d;
  d.callback(1);
  deferred::setDebugging(false);
  try {
    d.callback(2);
    FAIL() << "expected AlreadyCalledError";
  } catch (const deferred::AlreadyCalledError& e) {
    EXPECT_EQ(std::string(e.what()), "Deferred has already been called");
  }
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
  EXPECT_EQ(reportedOrigin([] { deferred::fail(std::runtime_error("lost")); }), "");
  testing::internal::CaptureStderr();
  { deferred::fail(std::runtime_error("lost")); }
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "Unhandled error in Deferred:\nFailure: std::runtime_error: lost\n");
}

// Test helper: records the observable order of calls.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deferred/deferred.h"

namespace deferred_test {

using Log = std::vector<std::string>;

// A fixture that records unhandled-error reports (each Failure's
// toString()) in `unhandled` instead of printing them, for one test.
struct RecordsUnhandled : ::testing::Test {
  void SetUp() override {
    previous = deferred::setUnhandledErrorSink(
        [this](const deferred::Failure& f) { unhandled.push_back(f.toString()); });
  }
  void TearDown() override { deferred::setUnhandledErrorSink(previous); }
  deferred::UnhandledErrorSink previous;
  Log unhandled;
};

}  // namespace deferred_test

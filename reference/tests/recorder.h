// Test helper: records the observable order of calls.
#pragma once

#include <string>
#include <vector>

namespace deferred_test {

using Log = std::vector<std::string>;

}  // namespace deferred_test

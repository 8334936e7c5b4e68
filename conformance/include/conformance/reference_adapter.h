// Link point for the bundled reference implementation's adapter.
//
// The adapter (a step-language interpreter over the C++ reference library)
// lives in conformance/reference_adapter/. Its CMakeLists.txt must define the
// library target `conformance_reference_adapter` that links `conformance_core`
// and defines the function below. When that target exists the build defines
// CONFORMANCE_HAVE_REFERENCE=1 for `conform`, registers the adapter in-process
// as `reference` (the default implementation), and builds the
// `reference-driver` executable (the same adapter behind the driver protocol).
// When it does not exist, `--impl reference` reports that the reference
// implementation is unavailable (exit status 2).
#pragma once

#include <memory>

#include "conformance/implementation.h"

namespace conformance {

std::unique_ptr<Implementation> make_reference_implementation();

}  // namespace conformance

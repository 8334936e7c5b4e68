// The conformance adapter for KJ promises (Cap'n Proto's kj-async library).
//
// `make_kj_implementation()` returns an in-process conformance::Implementation
// that runs spec programs (the step language of spec/README.md) against
// kj::Promise. It is used two ways:
//   - in process: link `conformance_kj_adapter` and call run() directly
//     (kj_inprocess_test.cpp does);
//   - as a driver: kj_driver_main.cpp hands it to conformance::serve(), which
//     speaks conformance/PROTOCOL.md on stdin/stdout (`conform --impl kj`).
// See README.md in this folder for the mapping and how to write your own.
#pragma once

#include <memory>

#include "conformance/implementation.h"

namespace kj_conformance {

std::unique_ptr<conformance::Implementation> make_kj_implementation();

}  // namespace kj_conformance

// The driver side of the protocol (conformance/PROTOCOL.md), written once for
// any in-process Implementation. A complete driver executable is:
//
//   #include "conformance/protocol_server.h"
//   int main() {
//     auto impl = my_make_implementation();
//     return conformance::serve(*impl, std::cin, std::cout);
//   }
#pragma once

#include <iosfwd>

#include "conformance/implementation.h"

namespace conformance {

// Serves requests from `in` until {"cmd": "stop"} or end of input; returns the
// process exit status (0 after stop or EOF).
int serve(Implementation& impl, std::istream& in, std::ostream& out);

}  // namespace conformance

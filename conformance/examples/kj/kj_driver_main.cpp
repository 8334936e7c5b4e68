// kj-driver: the KJ adapter behind the driver protocol (conformance/PROTOCOL.md).
// This is the whole driver: serve() does the handshake, the run loop and stop.
#include <iostream>

#include "conformance/protocol_server.h"
#include "kj_adapter.h"

int main() {
  std::ios::sync_with_stdio(false);
  auto impl = kj_conformance::make_kj_implementation();
  return conformance::serve(*impl, std::cin, std::cout);
}

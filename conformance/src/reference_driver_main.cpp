// reference-driver: the in-process reference adapter behind the driver protocol.
#include <iostream>

#include "conformance/protocol_server.h"
#include "conformance/reference_adapter.h"

int main() {
  std::ios::sync_with_stdio(false);
  auto impl = conformance::make_reference_implementation();
  return conformance::serve(*impl, std::cin, std::cout);
}

#include "conformance/implementation.h"

namespace conformance {

Implementation::~Implementation() = default;

namespace {
std::map<std::string, InProcessEntry>& registry() {
  static std::map<std::string, InProcessEntry> r;
  return r;
}
}  // namespace

void register_in_process(const std::string& name, ImplementationFactory factory, std::string description) {
  registry()[name] = {std::move(factory), std::move(description)};
}

const std::map<std::string, InProcessEntry>& in_process_registry() { return registry(); }

}  // namespace conformance

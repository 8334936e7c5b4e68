// The mutant switchboard of a DEFERRED_MUTANTS build (see detail/mutants.h).
#include "deferred/detail/mutants.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace deferred::detail {

namespace {

struct Mutant {
  const char* name;
  const char* what;
};

constexpr Mutant kMutants[] = {
#define DEFERRED_MUTANT_DEF(name, what) {name, what},
#include "mutants.def"
#undef DEFERRED_MUTANT_DEF
};

bool known(const char* name) noexcept {
  for (const Mutant& m : kMutants) {
    if (std::strcmp(m.name, name) == 0) return true;
  }
  return false;
}

// The mutant selected for this process; validated once, so a typo in the
// environment or at a hook site stops the run instead of testing nothing.
const char* selected() noexcept {
  static const char* const name = [] {
    const char* env = std::getenv("DEFERRED_MUTANT");
    if (env == nullptr || *env == '\0') return static_cast<const char*>(nullptr);
    if (!known(env)) {
      std::fprintf(stderr, "DEFERRED_MUTANT=%s: no such mutant; known:\n", env);
      for (const Mutant& m : kMutants) std::fprintf(stderr, "  %s\n", m.name);
      std::exit(2);
    }
    return env;
  }();
  return name;
}

}  // namespace

bool mutantActive(const char* name) noexcept {
  if (!known(name)) {
    std::fprintf(stderr, "DEFERRED_MUTANT(\"%s\"): not in mutants.def\n", name);
    std::abort();
  }
  const char* active = selected();
  return active != nullptr && std::strcmp(active, name) == 0;
}

}  // namespace deferred::detail

// What the fuzz targets share: the spec they load their registries and cases
// from, and how they report a broken invariant.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "conformance/spec_loader.h"

namespace fuzz {

// $DEFERRED_SPEC_DIR, else the source tree's spec/ (compiled in).
inline std::string spec_dir() {
  const char* env = std::getenv("DEFERRED_SPEC_DIR");
  return env != nullptr && *env != '\0' ? env : FUZZ_SPEC_DIR;
}

// The real spec, loaded once; aborts (a finding) if it does not load.
inline const conformance::Spec& spec() {
  static const conformance::LoadResult loaded = [] {
    conformance::LoadResult r = conformance::load_spec(spec_dir());
    if (!r.ok()) {
      for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
      std::abort();
    }
    return r;
  }();
  return loaded.spec;
}

// A broken invariant: says which target, what and on what input, then
// aborts so that libFuzzer records the input.
[[noreturn]] inline void fail(const char* target, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s fuzzer: %s\n%s\n", target, what, detail.c_str());
  std::abort();
}

}  // namespace fuzz

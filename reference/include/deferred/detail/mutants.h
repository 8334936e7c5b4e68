// Mutation testing hooks. Not part of the public API.
//
// In a normal build DEFERRED_MUTANT(name) is the constant false and costs
// nothing. A build configured with -DDEFERRED_MUTANTS=ON (tools/mutants
// only; never shipped) compiles the known bugs of src/mutants.def in, and
// DEFERRED_MUTANT(name) is true when the environment variable
// DEFERRED_MUTANT names that bug.
#pragma once

#if defined(DEFERRED_MUTANTS)
namespace deferred::detail {
bool mutantActive(const char* name) noexcept;
}  // namespace deferred::detail
#define DEFERRED_MUTANT(name) (::deferred::detail::mutantActive(name))
#else
#define DEFERRED_MUTANT(name) false
#endif

// Allocation guarantees, checked by counting global operator new calls.
// A separate executable, because it replaces the global allocator.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

namespace {
long allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;

namespace {
long allocationsDuring(auto&& body) {
  // The per-thread stack of the chain runner grows once per thread.
  static const bool warm = ((void)deferred::succeed(0), true);
  (void)warm;
  long before = allocations;
  body();
  return allocations - before;
}
}  // namespace

TEST(Allocation, SmallValuesAreInline) {
  EXPECT_EQ(allocationsDuring([] {
              Value a = 42;
              Value b = static_cast<void*>(nullptr);
              Value c = std::string("short");  // fits the SSO and the buffer
              Value d = std::move(c);
              (void)d;
            }),
            0);
}

TEST(Allocation, OneAllocationPerDeferredWithSmallHandlers) {
  int seen = 0;
  int* out = &seen;
  EXPECT_EQ(allocationsDuring([&] {
              Deferred d;
              d.addCallback([out](int x) { *out = x; return x + 1; });  // one pointer
              d.addCallbacks([out, &seen](int x) { *out += x + seen; return x; },
                             deferred::passthru);  // two pointers
              d.callback(1);
            }),
            1);
  EXPECT_EQ(seen, 4);
}

TEST(Allocation, AddingToFiredDeferredReusesInlineSteps) {
  long count = allocationsDuring([] {
    Deferred d = deferred::succeed(0);
    for (int i = 0; i < 1000; ++i) d.addCallback([](int x) { return x + 1; });
    EXPECT_EQ(d.result().get<int>(), 1000);
  });
  EXPECT_EQ(count, 1);
}

TEST(Allocation, ErrorPathPassesFailureWithoutAllocating) {
  Deferred d;
  for (int i = 0; i < 2; ++i) d.addCallback([](int x) { return x; });
  Failure f(std::runtime_error("x"));
  EXPECT_EQ(allocationsDuring([&] { d.errback(f); }), 0);
  d.addErrback([](const Failure&) {});
}

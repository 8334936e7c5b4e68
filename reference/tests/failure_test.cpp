#include <deferred/failure.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using deferred::Failure;

namespace {
struct BaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DerivedError : BaseError {
  using BaseError::BaseError;
};
struct NotAStdException {
  int code;
};
}  // namespace

TEST(Failure, WrapsExceptionObjectWithoutThrowing) {
  Failure f(std::invalid_argument("bad input"));
  EXPECT_EQ(f.typeName(), "std::invalid_argument");
  EXPECT_EQ(f.message(), "bad input");
  EXPECT_EQ(f.toString(), "std::invalid_argument: bad input");
  EXPECT_TRUE(f.exception() != nullptr);
}

TEST(Failure, ThrownIntHasTypeAndMessage) {
  try {
    throw 42;
  } catch (...) {
    Failure f = Failure::current();
    EXPECT_EQ(f.typeName(), "int");
    EXPECT_EQ(f.message(), "42");
  }
}

TEST(Failure, CurrentOutsideCatchThrows) {
  EXPECT_THROW(Failure::current(), deferred::NoCurrentExceptionError);
}

TEST(Failure, CheckHonoursInheritanceAndOrder) {
  Failure f = deferred::makeFailure(DerivedError("d"));
  EXPECT_EQ(f.check<DerivedError>(), 0u);
  EXPECT_EQ((f.check<std::logic_error, BaseError>()), 1u);
  EXPECT_EQ((f.check<std::exception, DerivedError>()), 0u);  // first listed wins
  EXPECT_EQ(f.check<std::logic_error>(), std::nullopt);
  EXPECT_EQ(f.typeName(), "(anonymous namespace)::DerivedError");
}

TEST(Failure, TrapReturnsIndexOrRethrowsSameFailure) {
  Failure f(BaseError("b"));
  EXPECT_EQ((f.trap<std::logic_error, BaseError>()), 1u);
  try {
    f.trap<std::logic_error, DerivedError>();
    FAIL() << "trap should have thrown";
  } catch (const Failure& thrown) {
    EXPECT_TRUE(thrown.sameAs(f));
  }
}

TEST(Failure, RaiseRethrowsOriginalException) {
  Failure f(NotAStdException{9});
  try {
    f.raise();
    FAIL() << "raise should throw";
  } catch (const NotAStdException& e) {
    EXPECT_EQ(e.code, 9);
  }
  EXPECT_EQ(f.typeName(), "(anonymous namespace)::NotAStdException");
  EXPECT_EQ(f.message(), "");
}

TEST(Failure, FromExceptionPtr) {
  std::exception_ptr p = std::make_exception_ptr(std::out_of_range("range"));
  Failure f(p);
  EXPECT_EQ(f.typeName(), "std::out_of_range");
  EXPECT_EQ(f.message(), "range");
  EXPECT_TRUE(f.check<std::logic_error>().has_value());
  EXPECT_THROW(Failure(std::exception_ptr()), std::invalid_argument);
}

TEST(Failure, CopiesShareIdentity) {
  Failure a(std::runtime_error("x"));
  Failure b = a;
  Failure c(std::runtime_error("x"));
  EXPECT_TRUE(a.sameAs(b));
  EXPECT_FALSE(a.sameAs(c));
}

TEST(Failure, StringAndCStringMessages) {
  EXPECT_EQ(Failure(std::string("s")).message(), "s");
  try {
    throw "literal";
  } catch (...) {
    Failure f = Failure::current();
    EXPECT_EQ(f.typeName(), "char const*");
    EXPECT_EQ(f.message(), "literal");
  }
}

#include <deferred/failure.h>
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

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

namespace {
// A Failure made from `value`, one caught after `throw value`, and one made
// from an exception_ptr to it all have the message `expected`.
template <class T>
void expectMessage(T value, const std::string& expected) {
  SCOPED_TRACE(deferred::detail::typeName(typeid(T)));
  EXPECT_EQ(Failure(value).message(), expected);
  try {
    throw value;
  } catch (...) {
    EXPECT_EQ(Failure::current().message(), expected);
  }
  EXPECT_EQ(Failure(std::make_exception_ptr(value)).message(), expected);
}
}  // namespace

TEST(Failure, MessageOfThrownValuesDoesNotDependOnHowTheFailureWasMade) {
  expectMessage(std::string("text"), "text");
  expectMessage(static_cast<const char*>("literal"), "literal");
  expectMessage(static_cast<const char*>(nullptr), "");
  char text[] = "mutable";
  expectMessage(static_cast<char*>(text), "mutable");
  expectMessage(static_cast<char*>(nullptr), "");
  expectMessage(true, "true");
  expectMessage(false, "false");
  expectMessage('x', "x");  // a char is a character...
  expectMessage(static_cast<signed char>(-5), "-5");  // ...int8_t, uint8_t numbers
  expectMessage(static_cast<unsigned char>(200), "200");
  expectMessage(static_cast<short>(-7), "-7");
  expectMessage(static_cast<unsigned short>(7), "7");
  expectMessage(-42, "-42");
  expectMessage(42u, "42");
  expectMessage(-3000000000L, "-3000000000");
  expectMessage(3000000000UL, "3000000000");
  expectMessage(-9000000000000000000LL, "-9000000000000000000");
  expectMessage(18000000000000000000ULL, "18000000000000000000");
  expectMessage(1.5f, "1.500000");
  expectMessage(2.25, "2.250000");
  expectMessage(0.5L, "0.500000");
  expectMessage(L'w', "");  // other types have no message
  expectMessage(NotAStdException{1}, "");
}

TEST(Failure, WrappingAThrownFailureGivesThatFailure) {
  Failure original(std::runtime_error("inner"));
  EXPECT_TRUE(Failure(std::make_exception_ptr(original)).sameAs(original));
  try {
    throw original;
  } catch (...) {
    EXPECT_TRUE(Failure::current().sameAs(original));
  }
}

TEST(Failure, AMovedFromFailureIsEmpty) {
  Failure original(std::runtime_error("moved"));
  Failure taken = std::move(original);
  EXPECT_EQ(taken.message(), "moved");
  EXPECT_TRUE(original.exception() == nullptr);  // NOLINT: use after move on purpose
  EXPECT_EQ(original.typeName(), "unknown");
  EXPECT_EQ(original.message(), "");
  EXPECT_EQ(original.toString(), "unknown: ");
  EXPECT_EQ(original.check<std::exception>(), std::nullopt);
  EXPECT_THROW(original.trap<std::exception>(), Failure);
  EXPECT_THROW(original.raise(), std::logic_error);
}

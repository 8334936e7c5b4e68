#include <deferred/value.h>
#include <gtest/gtest.h>

#include <array>

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

using deferred::TypeMismatchError;
using deferred::Value;

TEST(Value, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.isNull());
  EXPECT_FALSE(v.hasValue());
  EXPECT_EQ(v.typeName(), "null");
  EXPECT_TRUE(v.type() == typeid(void));
}

TEST(Value, HoldsExactType) {
  Value v = 42;
  EXPECT_TRUE(v.is<int>());
  EXPECT_FALSE(v.is<long>());
  EXPECT_EQ(v.get<int>(), 42);
  v.get<int>() += 1;
  EXPECT_EQ(v.get<int>(), 43);
  EXPECT_EQ(v.typeName(), "int");
}

TEST(Value, WrongTypeThrowsNamingBothTypes) {
  Value v = std::string("text");
  try {
    (void)v.get<int>();
    FAIL() << "expected TypeMismatchError";
  } catch (const TypeMismatchError& e) {
    EXPECT_STREQ(e.what(), "Value holds std::string, not int");
  }
  EXPECT_EQ(v.getIf<int>(), nullptr);
}

TEST(Value, StringLiteralBecomesStdString) {
  Value v = "hello";
  ASSERT_TRUE(v.is<std::string>());
  EXPECT_EQ(v.get<std::string>(), "hello");
}

TEST(Value, MoveOnlyContent) {
  Value v = std::make_unique<int>(7);
  ASSERT_TRUE(v.is<std::unique_ptr<int>>());
  Value w = std::move(v);
  EXPECT_TRUE(v.isNull());  // NOLINT(bugprone-use-after-move): moved-from is null
  std::unique_ptr<int> p = std::move(w).get<std::unique_ptr<int>>();
  EXPECT_EQ(*p, 7);
  Value again = std::make_unique<int>(1);
  EXPECT_THROW((void)again.copy(), TypeMismatchError);
}

TEST(Value, CopyOfCopyableContent) {
  Value v = std::string("abc");
  Value c = v.copy();
  c.get<std::string>() += "d";
  EXPECT_EQ(v.get<std::string>(), "abc");
  EXPECT_EQ(c.get<std::string>(), "abcd");
  EXPECT_TRUE(Value().copy().isNull());
}

// Objects too big for the inline buffer live on the heap; copying them must
// copy the object, not the pointer to it (found by the DeferredList work).
TEST(Value, CopyOfHeapStoredContent) {
  using Big4 = std::array<std::string, 4>;
  Big4 big{"a", "b", "c", "d"};
  static_assert(sizeof(big) > 32);
  Value v = big;
  Value c = v.copy();
  c.get<Big4>()[0] = "changed";
  EXPECT_EQ(v.get<Big4>()[0], "a");
  EXPECT_EQ(c.get<Big4>()[3], "d");
}

struct Big {
  char bytes[100];
  int tag;
};

TEST(Value, LargeObjectsAndTypeChanges) {
  Value v = Big{{}, 5};
  EXPECT_EQ(v.get<Big>().tag, 5);
  Value moved = std::move(v);
  EXPECT_EQ(moved.get<Big>().tag, 5);
  moved = 3.5;
  EXPECT_TRUE(moved.is<double>());
  moved.emplace<std::string>(3, 'x');
  EXPECT_EQ(moved.get<std::string>(), "xxx");
  moved.reset();
  EXPECT_TRUE(moved.isNull());
}

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  Counted(Counted&&) noexcept { ++alive; }
  ~Counted() { --alive; }
};

TEST(Value, DestroysContentExactlyOnce) {
  {
    Value a = Counted();
    Value b = std::move(a);
    Value c = b.copy();
    EXPECT_EQ(Counted::alive, 2);
    c = std::move(b);
    EXPECT_EQ(Counted::alive, 1);
  }
  EXPECT_EQ(Counted::alive, 0);
}

TEST(Value, TypeOfTheHeldObject) {
  EXPECT_TRUE(Value(1).type() == typeid(int));
  EXPECT_TRUE(Value("s").type() == typeid(std::string));
}

TEST(Value, ConstAndRvalueGetOfTheWrongTypeThrow) {
  const Value c = 1;
  EXPECT_THROW((void)c.get<std::string>(), TypeMismatchError);
  EXPECT_EQ(c.get<int>(), 1);
  Value v = std::string("text");
  EXPECT_THROW((void)std::move(v).get<int>(), TypeMismatchError);
  EXPECT_EQ(v.get<std::string>(), "text");  // NOLINT(bugprone-use-after-move): nothing was moved
}

TEST(Value, SelfMoveAssignmentKeepsTheContent) {
  Value v = std::string("kept");
  Value& same = v;
  v = std::move(same);
  EXPECT_EQ(v.get<std::string>(), "kept");
}

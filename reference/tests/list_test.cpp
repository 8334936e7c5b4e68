// DeferredList and gatherResults (Twisted 22.4's semantics).
#include <deferred/list.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::FirstError;
using deferred::FirstResult;
using deferred::ListEntry;
using deferred::ListOptions;
using deferred::ListResult;
using deferred::Value;
using deferred::ValueList;
using deferred_test::Log;

namespace {
struct DeferredList : ::testing::Test {
  void SetUp() override {
    previous = deferred::setUnhandledErrorSink(
        [this](const Failure& f) { unhandled.push_back(f.toString()); });
  }
  void TearDown() override { deferred::setUnhandledErrorSink(previous); }
  deferred::UnhandledErrorSink previous;
  Log unhandled;
};

ListOptions fireOnOneCallback() {
  ListOptions o;
  o.fireOnOneCallback = true;
  return o;
}
ListOptions fireOnOneErrback() {
  ListOptions o;
  o.fireOnOneErrback = true;
  return o;
}
ListOptions consumeErrors() {
  ListOptions o;
  o.consumeErrors = true;
  return o;
}
}  // namespace

TEST_F(DeferredList, ResultsInMemberOrderWhateverTheFiringOrder) {
  Deferred a, b, c;
  Deferred list = deferred::deferredList({a, b, c});
  c.callback(3);
  a.errback(std::runtime_error("a failed"));
  EXPECT_FALSE(list.called());
  b.callback(std::string("two"));
  ASSERT_TRUE(list.hasResult());
  const auto& results = list.result().get<ListResult>();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[0].success);
  EXPECT_TRUE(results[0].result.get<Failure>().check<std::runtime_error>().has_value());
  EXPECT_TRUE(results[1].success);
  EXPECT_EQ(results[1].result.get<std::string>(), "two");
  EXPECT_EQ(results[2].result.get<int>(), 3);
  a.addErrback([](const Failure&) {});  // handled on the member's own chain
}

TEST_F(DeferredList, NeverErrbacksByDefault) {
  Deferred a;
  Deferred list = deferred::deferredList({a});
  a.errback(std::runtime_error("x"));
  EXPECT_FALSE(list.isFailure());
  EXPECT_TRUE(a.isFailure());  // the member keeps its failure
  a.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, EmptyFiresAtOnceButNotWithFireOnOneCallback) {
  Deferred empty = deferred::deferredList({});
  ASSERT_TRUE(empty.hasResult());
  EXPECT_TRUE(empty.result().get<ListResult>().empty());
  Deferred never = deferred::deferredList({}, fireOnOneCallback());
  EXPECT_FALSE(never.called());
}

TEST_F(DeferredList, FireOnOneCallbackGivesValueAndIndexOnce) {
  Deferred a, b;
  Deferred list = deferred::deferredList({a, b}, fireOnOneCallback());
  a.errback(std::runtime_error("no"));
  EXPECT_FALSE(list.called());
  b.callback(7);
  const auto& first = list.result().get<FirstResult>();
  EXPECT_EQ(first.result.get<int>(), 7);
  EXPECT_EQ(first.index, 1u);
  EXPECT_EQ(b.result().get<int>(), 7);  // the member goes on with its value
  a.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, FireOnOneErrbackGivesFirstErrorAndIgnoresLaterResults) {
  Deferred a, b, c;
  Deferred list = deferred::deferredList({a, b, c}, fireOnOneErrback());
  a.callback(1);
  b.errback(std::invalid_argument("bad"));
  ASSERT_NE(list.failure(), nullptr);
  try {
    list.failure()->raise();
  } catch (const FirstError& e) {
    EXPECT_EQ(e.index(), 1u);
    EXPECT_TRUE(e.subFailure().check<std::invalid_argument>().has_value());
    EXPECT_EQ(std::string(e.what()), "FirstError[#1, " + e.subFailure().toString() + "]");
  }
  c.errback(std::runtime_error("later"));  // ignored by the list: one-shot
  EXPECT_EQ(list.failure()->check<FirstError>(), 0u);
  list.addErrback([](const Failure& f) { f.trap<FirstError>(); });
  b.addErrback([](const Failure&) {});
  c.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, ConsumeErrorsTurnsMemberFailureIntoNull) {
  Deferred a;
  Deferred list = deferred::deferredList({a}, consumeErrors());
  a.errback(std::runtime_error("eaten"));
  EXPECT_TRUE(a.hasResult());
  EXPECT_FALSE(a.isFailure());
  EXPECT_TRUE(a.result().isNull());
  EXPECT_FALSE(list.result().get<ListResult>()[0].success);
  a = Deferred();
  list = Deferred();
  EXPECT_TRUE(unhandled.empty());
}

TEST_F(DeferredList, UnconsumedMemberFailureIsReportedWhenDropped) {
  {
    Deferred a;
    Deferred list = deferred::deferredList({a});
    a.errback(std::runtime_error("lost"));
  }
  ASSERT_EQ(unhandled.size(), 1u);
  EXPECT_NE(unhandled[0].find("lost"), std::string::npos);
}

// The reference document's two examples: steps added before the list shape
// what it records; steps added after see the member's own result.
TEST_F(DeferredList, StepsBeforeTheListShapeWhatItSees) {
  Deferred a;
  a.addCallback([](int v) { return v * 10; });
  Deferred list = deferred::deferredList({a});
  Log log;
  a.addCallback([&](int v) { log.push_back("after: " + std::to_string(v)); });
  a.callback(4);
  EXPECT_EQ(list.result().get<ListResult>()[0].result.get<int>(), 40);
  EXPECT_EQ(log, Log{"after: 40"});
}

TEST_F(DeferredList, ListCallbacksRunBeforeMemberCallbacksAddedAfter) {
  Deferred a;
  Log log;
  Deferred list = deferred::deferredList({a});
  list.addCallback([&](const ListResult&) { log.push_back("list"); });
  a.addCallback([&](Value) { log.push_back("member"); });
  a.callback(1);
  EXPECT_EQ(log, (Log{"list", "member"}));
}

TEST_F(DeferredList, CancelCancelsUnfiredMembersOnly) {
  Log log;
  Deferred a([&](Deferred&) { log.push_back("cancel a"); });
  Deferred b = deferred::succeed(2);
  Deferred c([&](Deferred& d) { d.callback(std::string("substitute")); });
  Deferred list = deferred::deferredList({a, b, c});
  list.cancel();
  EXPECT_EQ(log, Log{"cancel a"});
  const auto& results = list.result().get<ListResult>();
  EXPECT_FALSE(results[0].success);
  EXPECT_TRUE(results[0].result.get<Failure>().check<deferred::CancelledError>().has_value());
  EXPECT_EQ(results[1].result.get<int>(), 2);
  EXPECT_EQ(results[2].result.get<std::string>(), "substitute");
  list.cancel();  // fired: nothing happens
  a.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, RaisingCancellerDoesNotStopTheOthers) {
  Deferred a([](Deferred&) { throw std::runtime_error("stubborn"); });
  Deferred b;
  Deferred list = deferred::deferredList({a, b}, consumeErrors());
  EXPECT_NO_THROW(list.cancel());
  EXPECT_FALSE(a.called());
  EXPECT_TRUE(b.hasResult());
  EXPECT_FALSE(list.called());  // the list itself never gets CancelledError
}

TEST_F(DeferredList, DoesNotKeepItsMembersAlive) {
  auto probe = std::make_shared<int>(0);
  std::weak_ptr<int> watch = probe;
  Deferred list;
  {
    Deferred a;
    a.addCallback([probe](Value v) { return v; });
    list = deferred::deferredList({a});
  }
  probe.reset();
  EXPECT_TRUE(watch.expired());  // member (and its captures) gone with it
  EXPECT_NO_THROW(list.cancel());
}

TEST_F(DeferredList, NonCopyableResultIsRecordedAsFailure) {
  Deferred a;
  Deferred list = deferred::deferredList({a});
  a.callback(std::make_unique<int>(5));
  const auto& entry = list.result().get<ListResult>()[0];
  EXPECT_TRUE(entry.result.get<Failure>().check<deferred::TypeMismatchError>().has_value());
  EXPECT_EQ(*a.result().get<std::unique_ptr<int>>(), 5);  // the member keeps it
}

TEST_F(DeferredList, GatherGivesValuesOrFirstError) {
  Deferred a, b;
  Deferred all = deferred::gatherResults({a, b});
  b.callback(2);
  a.callback(std::string("one"));
  const auto& values = all.result().get<ValueList>();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].get<std::string>(), "one");
  EXPECT_EQ(values[1].get<int>(), 2);

  Deferred c, d;
  Deferred failing = deferred::gatherResults({c, d}, /*consumeErrors=*/true);
  d.errback(std::runtime_error("d failed"));
  ASSERT_NE(failing.failure(), nullptr);
  EXPECT_TRUE(failing.failure()->check<FirstError>().has_value());
  EXPECT_TRUE(d.result().isNull());  // consumed
  failing.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, GatherCancelCancelsMembers) {
  Deferred a, b;
  Deferred all = deferred::gatherResults({a, b});
  all.cancel();
  ASSERT_NE(all.failure(), nullptr);
  EXPECT_TRUE(all.failure()->check<FirstError>().has_value());
  all.addErrback([](const Failure&) {});
  a.addErrback([](const Failure&) {});
  b.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, ResultsAreCopyable) {
  ListResult results;
  results.emplace_back(true, Value(1));
  ListResult copy = results;
  EXPECT_EQ(copy[0].result.get<int>(), 1);
  ValueList values;
  values.push_back(Value(std::string("x")));
  ValueList valuesCopy = values;
  EXPECT_EQ(valuesCopy[0].get<std::string>(), "x");
  FirstResult first(Value(3), 2);
  FirstResult firstCopy = first;
  EXPECT_EQ(firstCopy.index, 2u);
}

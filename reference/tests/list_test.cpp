// DeferredList and gatherResults (Twisted 22.4's semantics).
#include <deferred/list.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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
struct DeferredList : deferred_test::RecordsUnhandled {};

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
    EXPECT_EQ(e.subFailure().message(), "bad");
    EXPECT_EQ(std::string(e.what()), "FirstError[#1, " + e.subFailure().toString() + "]");
  } catch (...) {
    ADD_FAILURE() << "the list's failure is not a FirstError";
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
  std::vector<std::string> logged;
  deferred::ErrorLogSink previous = deferred::setErrorLogSink(
      [&](std::string_view context, const Failure& f) {
        logged.push_back(std::string(context) + " | " + f.message());
      });
  Deferred a([](Deferred&) { throw std::runtime_error("stubborn"); });
  Deferred b;
  Deferred list = deferred::deferredList({a, b}, consumeErrors());
  EXPECT_NO_THROW(list.cancel());
  deferred::setErrorLogSink(std::move(previous));
  EXPECT_FALSE(a.called());
  EXPECT_TRUE(b.hasResult());
  EXPECT_FALSE(list.called());  // the list itself never gets CancelledError
  // Twisted logs "Exception raised from user supplied canceller" with it.
  EXPECT_EQ(logged, (std::vector<std::string>{
                        "Exception raised from user supplied canceller | stubborn"}));
}

TEST_F(DeferredList, AThrowingErrorLogSinkIsSwallowed) {
  deferred::ErrorLogSink previous = deferred::setErrorLogSink(
      [](std::string_view, const Failure&) { throw std::logic_error("sink"); });
  Deferred a([](Deferred&) { throw std::runtime_error("stubborn"); });
  Deferred b;
  Deferred list = deferred::deferredList({a, b}, consumeErrors());
  EXPECT_NO_THROW(list.cancel());
  deferred::setErrorLogSink(std::move(previous));
  EXPECT_TRUE(b.hasResult());  // the second member was still cancelled
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

TEST_F(DeferredList, ValueListAssignmentCopiesEachValueOrChangesNothing) {
  ValueList values;
  values.push_back(Value(std::string("x")));
  values.push_back(Value(2));
  ValueList assigned;
  assigned.push_back(Value(0));
  assigned = values;
  ASSERT_EQ(assigned.size(), 2u);
  assigned[0].get<std::string>() += "y";  // a copy: the original is untouched
  EXPECT_EQ(values[0].get<std::string>(), "x");
  EXPECT_EQ(assigned[1].get<int>(), 2);
  const ValueList& same = assigned;
  assigned = same;
  EXPECT_EQ(assigned[0].get<std::string>(), "xy");
  ValueList moveOnly;
  moveOnly.push_back(Value(std::make_unique<int>(1)));
  EXPECT_THROW(assigned = moveOnly, deferred::TypeMismatchError);
  EXPECT_EQ(assigned.size(), 2u);  // unchanged
}

// The reference document's first example: three members, one errback; the
// list never errbacks and reports (success, result) pairs in member order.
TEST_F(DeferredList, DocumentExampleReportsEveryOutcome) {
  Deferred deferred1, deferred2, deferred3;
  Log printed;
  Deferred dl = deferred::deferredList({deferred1, deferred2, deferred3});
  dl.addCallback([&](const ListResult& results) {
    for (const ListEntry& r : results) {
      printed.push_back(r.success ? "(1, " + r.result.get<std::string>() + ")"
                                  : "(0, " + r.result.get<Failure>().message() + ")");
    }
  });
  deferred1.callback(std::string("one"));
  deferred2.errback(std::runtime_error("bang!"));
  EXPECT_TRUE(printed.empty());
  deferred3.callback(std::string("three"));
  EXPECT_EQ(printed, (Log{"(1, one)", "(0, bang!)", "(1, three)"}));
  deferred2.addErrback([](const Failure&) {});
}

std::string addTen(const std::string& result) { return result + " ten"; }

// The reference document's second example, first half: addTen added before
// the list was made runs before the list's step, which stores "one ten".
TEST_F(DeferredList, DocumentExampleCallbackAddedBeforeTheList) {
  Deferred deferred1, deferred2;
  deferred1.addCallback(addTen);
  Deferred dl = deferred::deferredList({deferred1, deferred2});
  Log printed;
  dl.addCallback([&](const ListResult& results) {
    for (const ListEntry& r : results) printed.push_back(r.result.get<std::string>());
  });
  deferred1.callback(std::string("one"));
  deferred2.callback(std::string("two"));
  EXPECT_EQ(printed, (Log{"one ten", "two"}));
}

// ... second half: addTen added after the list was made runs after the
// list's step, which stored "one"; the member itself goes on to "one ten".
TEST_F(DeferredList, DocumentExampleCallbackAddedAfterTheList) {
  Deferred deferred1, deferred2;
  Deferred dl = deferred::deferredList({deferred1, deferred2});
  deferred1.addCallback(addTen);
  Log printed;
  dl.addCallback([&](const ListResult& results) {
    for (const ListEntry& r : results) printed.push_back(r.result.get<std::string>());
  });
  deferred1.callback(std::string("one"));
  deferred2.callback(std::string("two"));
  EXPECT_EQ(printed, (Log{"one", "two"}));
  EXPECT_EQ(deferred1.result().get<std::string>(), "one ten");
}

TEST_F(DeferredList, ConsumeErrorsOnlyAffectsStepsAddedAfter) {
  Deferred a;
  Log log;
  a.addErrback([&](const Failure& f) {
    log.push_back("before: " + f.message());
    return f;
  });
  Deferred list = deferred::deferredList({a}, consumeErrors());
  a.addBoth([&](Value v) { log.push_back(v.isNull() ? "after: null" : "after: other"); });
  a.errback(std::runtime_error("x"));
  EXPECT_EQ(log, (Log{"before: x", "after: null"}));
  EXPECT_FALSE(list.result().get<ListResult>()[0].success);
}

TEST_F(DeferredList, FireOnOneCallbackIsOneShot) {
  Deferred a, b;
  Deferred list = deferred::deferredList({a, b}, fireOnOneCallback());
  Log log;
  list.addCallback([&](const FirstResult& first) {
    log.push_back(std::to_string(first.result.get<int>()) + "@" + std::to_string(first.index));
  });
  b.callback(2);
  a.callback(1);  // ignored by the list
  EXPECT_EQ(log, Log{"2@1"});
  EXPECT_EQ(a.result().get<int>(), 1);
}

TEST_F(DeferredList, MembersAlreadyFiredFireTheListAtOnce) {
  Deferred a = deferred::succeed(1);
  Deferred b = deferred::fail(std::runtime_error("early"));
  Deferred list = deferred::deferredList({a, b}, consumeErrors());
  ASSERT_TRUE(list.hasResult());
  const auto& results = list.result().get<ListResult>();
  EXPECT_TRUE(results[0].success);
  EXPECT_FALSE(results[1].success);
  EXPECT_TRUE(b.result().isNull());
  // With fireOnOneErrback, the first failed member in member order wins.
  Deferred c = deferred::fail(std::runtime_error("c"));
  Deferred d = deferred::fail(std::runtime_error("d"));
  ListOptions options = fireOnOneErrback();
  options.consumeErrors = true;
  Deferred first = deferred::deferredList({c, d}, options);
  ASSERT_NE(first.failure(), nullptr);
  try {
    first.failure()->raise();
  } catch (const FirstError& e) {
    EXPECT_EQ(e.index(), 0u);
    EXPECT_EQ(e.subFailure().message(), "c");
  } catch (...) {
    ADD_FAILURE() << "not a FirstError";
  }
  first.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, SameMemberTwiceIsRecordedTwice) {
  Deferred a;
  Deferred list = deferred::deferredList({a, a});
  a.callback(5);
  const auto& results = list.result().get<ListResult>();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result.get<int>(), 5);
  EXPECT_EQ(results[1].result.get<int>(), 5);
}

TEST_F(DeferredList, CancelAfterFiringDoesNotTouchMembers) {
  Log log;
  Deferred a;
  Deferred b([&](Deferred&) { log.push_back("cancel b"); });
  Deferred list = deferred::deferredList({a, b}, fireOnOneCallback());
  a.callback(1);
  list.cancel();
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(b.called());

  // Nor while the fired list waits on a Deferred one of its handlers
  // returned (DeferredList.cancel() does nothing once the list is called).
  Deferred c;
  Deferred inner([&](Deferred&) { log.push_back("cancel inner"); });
  Deferred waiting = deferred::deferredList({c});
  waiting.addCallback([inner](Value) { return inner; });
  c.callback(1);
  ASSERT_TRUE(waiting.isWaiting());
  waiting.cancel();
  EXPECT_TRUE(log.empty());
  inner.callback(2);
  EXPECT_EQ(waiting.result().get<int>(), 2);
}

TEST_F(DeferredList, CancelWithFireOnOneErrbackStopsAtTheFirstCancelledMember) {
  Log log;
  Deferred a([&](Deferred&) { log.push_back("cancel a"); });
  Deferred b([&](Deferred&) { log.push_back("cancel b"); });
  Deferred list = deferred::deferredList({a, b}, fireOnOneErrback());
  list.cancel();
  // a's CancelledError fires the list, but cancel() goes on over the members
  // it started with (Twisted's loop does not look at `called` again).
  EXPECT_EQ(log, (Log{"cancel a", "cancel b"}));
  ASSERT_NE(list.failure(), nullptr);
  EXPECT_TRUE(list.failure()->check<FirstError>().has_value());
  list.addErrback([](const Failure&) {});
  a.addErrback([](const Failure&) {});
  b.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, GatherEmptyFiresWithEmptyValues) {
  Deferred none = deferred::gatherResults({});
  ASSERT_TRUE(none.hasResult());
  EXPECT_TRUE(none.result().get<ValueList>().empty());
}

TEST_F(DeferredList, GatherFirstErrorDetailsAndUnconsumedMember) {
  Deferred a, b;
  Deferred all = deferred::gatherResults({a, b});
  a.errback(std::invalid_argument("a broke"));
  ASSERT_NE(all.failure(), nullptr);
  Log seen;
  all.addErrback([&](const Failure& f) {
    f.trap<FirstError>();
    try {
      f.raise();
    } catch (const FirstError& e) {
      seen.push_back(std::to_string(e.index()) + ": " + e.subFailure().typeName() + ": " +
                     e.subFailure().message());
    }
  });
  EXPECT_EQ(seen, Log{"0: std::invalid_argument: a broke"});
  EXPECT_TRUE(a.isFailure());  // not consumed: the member keeps its failure
  b.callback(1);               // ignored: one-shot
  EXPECT_TRUE(all.result().isNull());
  a.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, AMemberKeepsItsResultWhileTheListsCallbacksRun) {
  // The list fires from inside the member's step; Twisted's member still
  // has its result then, and so does this one.
  Deferred a, b;
  Deferred list = deferred::deferredList({a, b});
  Log seen;
  list.addCallback([&seen, a, b](const ListResult&) {
    seen.push_back(std::to_string(a.result().get<int>()) + " " + b.failure()->message());
  });
  a.callback(7);
  b.errback(std::runtime_error("b failed"));
  EXPECT_EQ(seen, Log{"7 b failed"});
  EXPECT_EQ(a.result().get<int>(), 7);
  b.addErrback([](const Failure&) {});
}

TEST_F(DeferredList, AListCallbackReturningTheMemberThatFiredItGetsACopy) {
  Deferred a;
  Deferred list = deferred::deferredList({a});
  list.addCallback([a](const ListResult&) { return a; });
  a.callback(std::string("shared"));
  EXPECT_EQ(list.result().get<std::string>(), "shared");
  EXPECT_EQ(a.result().get<std::string>(), "shared");  // the member's own chain goes on with it
}

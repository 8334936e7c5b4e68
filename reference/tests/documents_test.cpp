// The examples of Twisted's "Introduction to Deferreds" (seed 001) and
// "Deferred reference" (seed 002), translated to C++. Each synchronous
// try/except/else/finally shape is checked against its Deferred equivalent
// for both the success and the failure of the first operation.
#include <deferred/deferred.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "recorder.h"

using deferred::Deferred;
using deferred::Failure;
using deferred::Value;
using deferred_test::Log;

namespace {

struct Documents : deferred_test::RecordsUnhandled {};

struct FError : std::runtime_error {
  FError() : std::runtime_error("f failed") {}
};
struct HError : std::runtime_error {
  HError() : std::runtime_error("h failed") {}
};

// An asynchronous f(): the test fires the returned Deferred later.
struct AsyncF {
  Deferred d;
  Deferred call() { return d; }
  void succeed() { d.callback(std::string("y")); }
  void fail() { d.errback(FError()); }
};

}  // namespace

// 001 "The joy of order" / "One solution": pod bay doors. pod.launch()
// only runs once the doors have actually opened.
TEST_F(Documents, PodBayDoorsLaunchAfterOpen) {
  Log log;
  Deferred doorsOpened;  // what pod_bay_doors.open() returns
  auto open = [&] { log.push_back("open requested"); return doorsOpened; };
  Deferred d = open();
  d.addCallback([&](Value /*ignored*/) { log.push_back("pod.launch()"); });
  log.push_back("next line");
  EXPECT_EQ(log, (Log{"open requested", "next line"}));
  doorsOpened.callback();  // the doors finish opening
  EXPECT_EQ(log, (Log{"open requested", "next line", "pod.launch()"}));
}

// 001 "One thing, then another, then another": pprint(sorted(get_names())).
TEST_F(Documents, OneThingThenAnotherThenAnother) {
  Log printed;
  Deferred getNames;
  getNames.addCallback([](std::vector<std::string> names) {
             std::sort(names.begin(), names.end());
             return names;
           })
      .addCallback([&](const std::vector<std::string>& names) {
        for (const auto& n : names) printed.push_back(n);
      });
  getNames.callback(std::vector<std::string>{"carol", "alice", "bob"});
  EXPECT_EQ(printed, (Log{"alice", "bob", "carol"}));
}

// 001 "Simple failure handling": try: x.get_names() except: report_error(e)
TEST_F(Documents, SimpleFailureHandling) {
  for (bool fails : {false, true}) {
    Log log;
    Deferred d;
    d.addErrback([&](const Failure& e) { log.push_back("report_error " + e.message()); });
    if (fails) {
      d.errback(FError());
      EXPECT_EQ(log, (Log{"report_error f failed"}));
    } else {
      d.callback(std::string("names"));
      EXPECT_TRUE(log.empty());
    }
  }
  EXPECT_TRUE(unhandled.empty());
}

// 001 "Handle an error, but do something else on success":
//   try: y = f() except: g(e) else: h(y)   ==>   d.addCallbacks(h, g)
TEST_F(Documents, TryExceptElse) {
  auto run = [&](bool fails, bool hRaises) {
    Log log;
    AsyncF f;
    Deferred d = f.call();
    d.addCallbacks(
        [&](const std::string& y) {
          log.push_back("h(" + y + ")");
          if (hRaises) throw HError();
        },
        [&](const Failure& e) { log.push_back("g(" + e.message() + ")"); });
    fails ? f.fail() : f.succeed();
    return log;
  };
  EXPECT_EQ(run(false, false), (Log{"h(y)"}));
  EXPECT_EQ(run(true, false), (Log{"g(f failed)"}));
  // Like `else:`, an exception raised by h is not handled by g.
  unhandled.clear();
  EXPECT_EQ(run(false, true), (Log{"h(y)"}));
  EXPECT_EQ(unhandled, (Log{"(anonymous namespace)::HError: h failed"}));
}

// 001 "Handle an error, then proceed anyway":
//   try: y = f() except: y = g(e)   h(y)   ==>   d.addErrback(g).addCallback(h)
TEST_F(Documents, HandleErrorThenProceedAnyway) {
  auto run = [&](bool fails) {
    Log log;
    AsyncF f;
    f.call()
        .addErrback([&](const Failure& e) {
          log.push_back("g(" + e.message() + ")");
          return std::string("fallback");
        })
        .addCallback([&](const std::string& y) { log.push_back("h(" + y + ")"); });
    fails ? f.fail() : f.succeed();
    return log;
  };
  EXPECT_EQ(run(false), (Log{"h(y)"}));
  EXPECT_EQ(run(true), (Log{"g(f failed)", "h(fallback)"}));
}

// 001 "Handle an error for the entire operation":
//   try: y = f(); z = h(y) except: g(e)   ==>   d.addCallback(h).addErrback(g)
TEST_F(Documents, HandleErrorForEntireOperation) {
  auto run = [&](bool fails, bool hRaises) {
    Log log;
    AsyncF f;
    f.call()
        .addCallback([&](const std::string& y) {
          log.push_back("h(" + y + ")");
          if (hRaises) throw HError();
          return std::string("z");
        })
        .addErrback([&](const Failure& e) { log.push_back("g(" + e.message() + ")"); });
    fails ? f.fail() : f.succeed();
    return log;
  };
  EXPECT_EQ(run(false, false), (Log{"h(y)"}));
  EXPECT_EQ(run(true, false), (Log{"g(f failed)"}));
  EXPECT_EQ(run(false, true), (Log{"h(y)", "g(h failed)"}));
  EXPECT_TRUE(unhandled.empty());
}

// 001 "Do something regardless": try: y = f() finally: g()  ==> d.addBoth(g)
// "Roughly": g receives y or the Failure, and what g returns replaces it.
TEST_F(Documents, DoSomethingRegardless) {
  auto run = [&](bool fails) {
    Log log;
    AsyncF f;
    Deferred d = f.call();
    d.addBoth([&](Value r) {
      log.push_back(r.is<Failure>() ? "g(Failure " + r.get<Failure>().message() + ")"
                                    : "g(" + r.get<std::string>() + ")");
      return r;  // re-raise / pass on, like finally
    });
    fails ? f.fail() : f.succeed();
    d.addErrback([&](const Failure&) { log.push_back("still failed"); });
    return log;
  };
  EXPECT_EQ(run(false), (Log{"g(y)"}));
  EXPECT_EQ(run(true), (Log{"g(Failure f failed)", "still failed"}));

  // addBoth(g) is addCallbacks(g, g).
  Log log;
  Deferred d;
  auto g = [&](Value r) { log.push_back(r.typeName()); };
  d.addCallbacks(g, g);
  d.errback(FError());
  EXPECT_EQ(log, (Log{"deferred::Failure"}));
}

// 001 "Inline callbacks": getUsers with a connectionError errback that traps
// ConnectionError and returns []; other errors are passed on.
TEST_F(Documents, GetUsersTrapsConnectionError) {
  struct ConnectionError : std::runtime_error {
    ConnectionError() : std::runtime_error("connection refused") {}
  };
  auto getUsers = [](Deferred request) {
    request.addCallbacks(
        [](const std::string& body) { return std::vector<std::string>{body}; },
        [](const Failure& failure) {
          failure.trap<ConnectionError>();
          return std::vector<std::string>{};
        });
    return request;
  };
  Deferred ok;
  getUsers(ok).callback(std::string("alice"));
  EXPECT_EQ(ok.result().get<std::vector<std::string>>(), std::vector<std::string>{"alice"});
  Deferred refused;
  getUsers(refused).errback(ConnectionError());
  EXPECT_TRUE(refused.result().get<std::vector<std::string>>().empty());
  Deferred other;
  Failure boom(std::logic_error("other"));
  getUsers(other).errback(boom);
  ASSERT_TRUE(other.isFailure());
  EXPECT_TRUE(other.failure()->sameAs(boom));
  other.addErrback([](const Failure&) {});
}

// 002 "Callbacks": getDummyData(3) fires with x * 3; printData prints it.
TEST_F(Documents, DummyDataCallback) {
  Log printed;
  auto getDummyData = [](int x, Deferred& later) {
    Deferred d;
    later = d;  // stands in for reactor.callLater(2, d.callback, x * 3)
    (void)x;
    return d;
  };
  Deferred scheduled;
  Deferred d = getDummyData(3, scheduled);
  d.addCallback([&](int r) { printed.push_back(std::to_string(r)); });
  EXPECT_TRUE(printed.empty());
  scheduled.callback(3 * 3);
  EXPECT_EQ(printed, (Log{"9"}));
}

// 002 "Multiple callbacks": the Getter class. Odd numbers errback with
// ValueError("You used an odd number!") and skip _toHTML; even numbers
// print "Result: 12" for 4.
namespace {
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Getter {
  Deferred d;
  void gotResults(int x) {
    if (x % 2 == 0) {
      d.callback(x * 3);
    } else {
      d.errback(ValueError("You used an odd number!"));
    }
  }
  static std::string toHTML(int r) { return "Result: " + std::to_string(r); }
  Deferred getDummyData(int x, int& scheduled) {
    d = Deferred();
    scheduled = x;  // reactor.callLater(2, self.gotResults, x)
    d.addCallback(&Getter::toHTML);
    return d;
  }
};
}  // namespace

TEST_F(Documents, GetterOddAndEven) {
  Log out;
  Log err;
  auto printData = [&](const std::string& s) { out.push_back(s); };
  auto printError = [&](const Failure& f) { err.push_back(f.message()); };

  Getter g1;
  int pending = 0;
  Deferred d1 = g1.getDummyData(3, pending);
  d1.addCallback(printData);
  d1.addErrback(printError);
  g1.gotResults(pending);

  Getter g2;
  Deferred d2 = g2.getDummyData(4, pending);
  d2.addCallback(printData);
  d2.addErrback(printError);
  g2.gotResults(pending);

  EXPECT_EQ(out, (Log{"Result: 12"}));
  EXPECT_EQ(err, (Log{"You used an odd number!"}));
  EXPECT_TRUE(unhandled.empty());
}

// 002 "Errbacks": failure.trap(SpamException, EggException).
TEST_F(Documents, TrapSpamAndEggs) {
  struct SpamException : std::runtime_error {
    SpamException() : std::runtime_error("spam") {}
  };
  struct EggException : std::runtime_error {
    EggException() : std::runtime_error("eggs") {}
  };
  auto errorHandler = [](const Failure& failure) {
    std::size_t which = failure.trap<SpamException, EggException>();
    return which == 0 ? std::string("handled spam") : std::string("handled eggs");
  };
  auto cook = [](int what) -> std::string {
    if (what == 0) throw SpamException();
    if (what == 1) throw EggException();
    throw std::logic_error("burnt");
  };
  Log results;
  for (int what : {0, 1, 2}) {
    Deferred d;
    d.addCallback(cook);
    d.addErrback(errorHandler);
    d.callback(what);
    results.push_back(d.isFailure() ? "unhandled " + d.failure()->message()
                                    : d.result().get<std::string>());
    if (d.isFailure()) d.addErrback([](const Failure&) {});
  }
  EXPECT_EQ(results, (Log{"handled spam", "handled eggs", "unhandled burnt"}));
}

// 002 Case 1 (addCallback + addErrback) versus Case 2 (addCallbacks): an
// error in callback1 reaches errback1 in Case 1 but errback2 in Case 2.
TEST_F(Documents, Case1VersusCase2) {
  auto callback1 = [](Log& log) {
    return [&log](Value) -> Value {
      log.push_back("callback1");
      throw std::runtime_error("error in callback1");
    };
  };
  auto errback = [](Log& log, std::string name) {
    return [&log, name](const Failure& f) { log.push_back(name + ": " + f.message()); };
  };
  auto callback2 = [](Log& log) { return [&log](Value) { log.push_back("callback2"); }; };

  Log case1;
  Deferred d1;
  d1.addCallback(callback1(case1));       // A
  d1.addErrback(errback(case1, "errback1"));  // B
  d1.addCallback(callback2(case1));
  d1.addErrback(errback(case1, "errback2"));
  d1.callback();
  // errback1 recovers (returns nothing), so callback2 runs with null.
  EXPECT_EQ(case1, (Log{"callback1", "errback1: error in callback1", "callback2"}));

  Log case2;
  Deferred d2;
  d2.addCallbacks(callback1(case2), errback(case2, "errback1"));  // C
  d2.addCallbacks(callback2(case2), errback(case2, "errback2"));
  d2.callback();
  EXPECT_EQ(case2, (Log{"callback1", "errback2: error in callback1"}));

  // An error from the source itself goes to errback1 in both cases.
  Log source1;
  Deferred s1;
  s1.addCallback(callback1(source1)).addErrback(errback(source1, "errback1"));
  s1.errback(std::runtime_error("upstream"));
  Log source2;
  Deferred s2;
  s2.addCallbacks(callback1(source2), errback(source2, "errback1"));
  s2.errback(std::runtime_error("upstream"));
  EXPECT_EQ(source1, (Log{"errback1: upstream"}));
  EXPECT_EQ(source2, (Log{"errback1: upstream"}));
}

// 002 "Handling either synchronous or asynchronous results": maybeDeferred.
TEST_F(Documents, AuthenticateUserWithMaybeDeferred) {
  Log printed;
  auto printResult = [&](bool valid) {
    printed.push_back(valid ? "User is authenticated" : "User is not authenticated");
  };
  const std::vector<std::string> users{"Alice", "Angus", "Agnes"};
  auto synchronousIsValidUser = [&](const std::string& user) {
    return std::find(users.begin(), users.end(), user) != users.end();
  };
  Deferred pendingCheck;
  bool pendingAnswer = false;
  auto asynchronousIsValidUser = [&](const std::string& user) {
    Deferred d;
    pendingCheck = d;  // reactor.callLater(2, d.callback, user in [...])
    pendingAnswer = std::find(users.begin(), users.end(), user) != users.end();
    return d;
  };
  auto authenticateUser = [&](auto isValidUser, const std::string& user) {
    Deferred d = deferred::maybeDeferred(isValidUser, user);
    d.addCallback(printResult);
  };
  authenticateUser(synchronousIsValidUser, "Alice");
  authenticateUser(synchronousIsValidUser, "Mallory");
  EXPECT_EQ(printed, (Log{"User is authenticated", "User is not authenticated"}));
  authenticateUser(asynchronousIsValidUser, "Agnes");
  EXPECT_EQ(printed.size(), 2u);
  pendingCheck.callback(pendingAnswer);
  EXPECT_EQ(printed.back(), "User is authenticated");
}

// 002 "Chaining Deferreds": returning Deferred B from a callback of A stops
// A's chain until B fires; A's next callback gets the result of B's last
// callback at that time.
TEST_F(Documents, ChainingReturnedDeferred) {
  Log log;
  Deferred a;
  Deferred b;
  b.addCallback([&](int x) { log.push_back("b cb " + std::to_string(x)); return x * 2; });
  a.addCallback([&](Value) { log.push_back("a cb1 returns b"); return b; });
  a.addCallback([&](int x) { log.push_back("a cb2 " + std::to_string(x)); });
  a.callback();
  EXPECT_EQ(log, (Log{"a cb1 returns b"}));
  EXPECT_TRUE(a.isWaiting());
  b.callback(21);
  EXPECT_EQ(log, (Log{"a cb1 returns b", "b cb 21", "a cb2 42"}));
  EXPECT_TRUE(b.result().isNull());  // consumed by a
}

// 002 "chainDeferred": ≡ addCallbacks(other.callback, other.errback); later
// additions to the first chain do not affect the other Deferred.
TEST_F(Documents, ChainDeferred) {
  Log log;
  Deferred first;
  Deferred other;
  other.addCallback([&](int x) { log.push_back("other " + std::to_string(x)); return x; });
  first.addCallback([](int x) { return x + 1; });
  first.chainDeferred(other);
  first.addCallback([&](const Value& v) { log.push_back("first after chain " + v.typeName()); return 100; });
  first.callback(1);
  EXPECT_EQ(log, (Log{"other 2", "first after chain null"}));
  EXPECT_EQ(other.result().get<int>(), 2);
  EXPECT_EQ(first.result().get<int>(), 100);

  Deferred failing;
  Deferred target;
  failing.chainDeferred(target);
  failing.errback(std::runtime_error("to target"));
  ASSERT_TRUE(target.isFailure());
  EXPECT_EQ(target.failure()->message(), "to target");
  EXPECT_FALSE(failing.isFailure());  // errback returned nothing
  target.addErrback([](const Failure&) {});
}

// 002 "Unhandled Errors": a failure left in a Deferred is reported when the
// Deferred goes away; adding an errback prevents it.
TEST_F(Documents, UnhandledErrorsAreLogged) {
  {
    Deferred d;
    d.addCallback([](Value) { throw std::runtime_error("nobody listens"); });
    d.callback();
  }
  EXPECT_EQ(unhandled, (Log{"std::runtime_error: nobody listens"}));
  unhandled.clear();
  {
    Deferred d;
    d.addCallback([](Value) { throw std::runtime_error("logged"); });
    d.addErrback([](const Failure&) {});  // log.err
    d.callback();
  }
  EXPECT_TRUE(unhandled.empty());
}

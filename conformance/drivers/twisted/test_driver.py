"""Tests of the Twisted conformance driver (stdlib unittest).

Run from this folder:
    /usr/bin/python3 -m unittest -v test_driver
or from anywhere:
    /usr/bin/python3 -m unittest discover -s conformance/drivers/twisted -p 'test_*.py' -v

Every test feeds a program through the real driver process and compares the
observations with what Twisted 22.4 documents / does (defer.py), not with
output copied from the driver.
"""

import json
import os
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = [os.environ.get("TWISTED_PYTHON", "/usr/bin/python3"), os.path.join(HERE, "driver.py")]


def F(t, m=None):
    """An encoded failure."""
    return {"$failure": t} if m is None else {"$failure": t, "message": m}


def D(n):
    return {"$deferred": n}


class Driver:
    def __init__(self):
        self.p = subprocess.Popen(DRIVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=HERE)
        self.seq = 0

    def request(self, obj, expect_reply=True):
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()
        if not expect_reply:
            return None
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("driver closed its output; stderr: " + self.p.stderr.read())
        return json.loads(line)

    def run(self, program):
        self.seq += 1
        r = self.request({"cmd": "run", "seq": self.seq, "case": "test", "program": program})
        assert r["seq"] == self.seq, r
        return r

    def close(self):
        self.request({"cmd": "stop"}, expect_reply=False)
        self.p.stdin.close()
        rc = self.p.wait(10)
        self.p.stdout.close()
        self.p.stderr.close()
        return rc


class DriverTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = Driver()
        cls.hello = cls.driver.request({"cmd": "start", "protocol": 1})

    @classmethod
    def tearDownClass(cls):
        assert cls.driver.close() == 0

    def observe(self, program):
        r = self.driver.run(program)
        self.assertEqual(r["outcome"], "observed", r)
        return r["observations"]

    def check(self, program, trace, final):
        obs = self.observe(program)
        self.assertEqual(obs["trace"], trace)
        self.assertEqual(obs["final"], final)


class Protocol(DriverTestCase):
    def test_handshake(self):
        h = self.hello
        self.assertEqual(h["protocol"], 1)
        self.assertEqual(h["implementation"]["name"], "twisted")
        self.assertEqual(h["implementation"]["language"], "python")
        self.assertTrue(h["implementation"]["version"].startswith("2"))
        self.assertNotIn("self-chain-error", h["features"])
        for f in ("core", "synchronous", "final-state", "extra-args", "pause", "cancel",
                  "chain-deferred", "deferred-list", "gather", "maybe-deferred", "timeout",
                  "lock", "semaphore", "queue", "coroutine", "unhandled-error"):
            self.assertIn(f, h["features"])

    def test_unknown_op_errors_naming_step(self):
        r = self.driver.run([{"op": "new", "name": "d"}, {"op": "frobnicate", "target": "d"}])
        self.assertEqual(r["outcome"], "errored")
        self.assertIn("step 1", r["message"])
        self.assertIn("frobnicate", r["message"])

    def test_missing_field_errors(self):
        r = self.driver.run([{"op": "new"}])
        self.assertEqual(r["outcome"], "errored")
        self.assertIn("step 0", r["message"])
        self.assertIn("name", r["message"])

    def test_unknown_field_errors(self):
        r = self.driver.run([{"op": "new", "name": "d", "colour": "red"}])
        self.assertEqual(r["outcome"], "errored")

    def test_unknown_name_errors(self):
        r = self.driver.run([{"op": "callback", "target": "nope", "value": 1}])
        self.assertEqual(r["outcome"], "errored")
        self.assertIn("nope", r["message"])

    def test_bad_action_in_handler_body_errors(self):
        r = self.driver.run([{"op": "new", "name": "d"},
                             {"op": "addCallback", "target": "d", "label": "cb", "do": ["dance"]},
                             {"op": "callback", "target": "d", "value": 1}])
        self.assertEqual(r["outcome"], "errored")
        self.assertIn("dance", r["message"])

    def test_name_created_twice_errors(self):
        r = self.driver.run([{"op": "new", "name": "d"}, {"op": "new", "name": "d"}])
        self.assertEqual(r["outcome"], "errored")

    def test_next_case_is_fresh_after_error(self):
        self.driver.run([{"op": "new", "name": "d"}, {"op": "bogus"}])
        self.check([{"op": "new", "name": "d"}], [], {"d": {"state": "pending"}})

    def test_bench_chain(self):
        r = self.driver.request({"cmd": "bench", "seq": 99, "workload": "chain", "n": 100, "repeat": 3})
        self.assertEqual(r["seq"], 99)
        self.assertEqual(r["outcome"], "timed")
        self.assertEqual(len(r["ns_per_step"]), 3)
        self.assertTrue(all(x > 0 for x in r["ns_per_step"]))

    def test_bench_unknown_workload_skipped(self):
        r = self.driver.request({"cmd": "bench", "seq": 100, "workload": "no-such", "n": 10, "repeat": 1})
        self.assertEqual(r["outcome"], "skipped")


class Core(DriverTestCase):
    def test_readme_example_errback_recovers(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"return": "recovered"}]},
             {"op": "addCallback", "target": "d", "label": "cb", "do": ["returnArgument"]},
             {"op": "errback", "target": "d", "error": "TestError", "message": "boom"}],
            [{"call": "eb", "arg": F("TestError", "boom")}, {"call": "cb", "arg": "recovered"}],
            {"d": {"state": "fired", "result": "recovered"}})

    def test_callbacks_chain_results(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "a", "do": [{"return": 2}]},
             {"op": "addCallback", "target": "d", "label": "b", "do": [{"return": [1, {"k": None}]}]},
             {"op": "callback", "target": "d", "value": 1}],
            [{"call": "a", "arg": 1}, {"call": "b", "arg": 2}],
            {"d": {"state": "fired", "result": [1, {"k": None}]}})

    def test_body_without_return_gives_none(self):
        self.check(
            [{"op": "succeed", "name": "d", "value": 5},
             {"op": "addCallback", "target": "d", "label": "a", "do": [{"op": "mark", "label": "in"}]}],
            [{"call": "a", "arg": 5}, {"mark": "in"}],
            {"d": {"state": "fired", "result": None}})

    def test_errback_skips_callbacks_and_raise_switches_path(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "cb1", "do": [{"raise": "TestErrorA", "message": "x"}]},
             {"op": "addCallback", "target": "d", "label": "cb2", "do": ["returnArgument"]},
             {"op": "addErrback", "target": "d", "label": "eb", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 0}],
            [{"call": "cb1", "arg": 0}, {"call": "eb", "arg": F("TestErrorA", "x")}],
            {"d": {"state": "fired", "result": F("TestErrorA", "x")}})

    def test_return_failure_value_switches_to_errback(self):
        self.check(
            [{"op": "succeed", "name": "d", "value": 1},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"return": F("TestErrorB", "r")}]},
             {"op": "addErrback", "target": "d", "label": "eb", "do": ["raiseArgument"]},
             {"op": "addErrback", "target": "d", "label": "eb2", "do": [{"return": "ok"}]}],
            [{"call": "cb", "arg": 1}, {"call": "eb", "arg": F("TestErrorB", "r")},
             {"call": "eb2", "arg": F("TestErrorB", "r")}],
            {"d": {"state": "fired", "result": "ok"}})

    def test_callback_with_failure_value(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallbacks", "target": "d", "callback": {"label": "cb"},
              "errback": {"label": "eb", "do": [{"return": 1}]}},
             {"op": "callback", "target": "d", "value": F("TestError", "via-callback")}],
            [{"call": "eb", "arg": F("TestError", "via-callback")}],
            {"d": {"state": "fired", "result": 1}})

    def test_fail_and_trap_supertype(self):
        self.check(
            [{"op": "fail", "name": "d", "error": "TestErrorA1", "message": "deep"},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"trap": ["TestError"]}, {"return": "trapped"}]}],
            [{"call": "eb", "arg": F("TestErrorA1", "deep")}],
            {"d": {"state": "fired", "result": "trapped"}})

    def test_trap_mismatch_passes_failure_on(self):
        self.check(
            [{"op": "fail", "name": "d", "error": "TestErrorA", "message": "a"},
             {"op": "addErrback", "target": "d", "label": "eb1", "do": [{"trap": ["TestErrorB", "CancelledError"]}, {"return": 1}]},
             {"op": "addErrback", "target": "d", "label": "eb2", "do": [{"trap": ["TestErrorA"]}]}],
            [{"call": "eb1", "arg": F("TestErrorA", "a")}, {"call": "eb2", "arg": F("TestErrorA", "a")}],
            {"d": {"state": "fired", "result": None}})

    def test_add_to_fired_runs_synchronously(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "callback", "target": "d", "value": "v"},
             {"op": "mark", "label": "fired"},
             {"op": "addBoth", "target": "d", "label": "both", "do": [{"return": "w"}]},
             {"op": "mark", "label": "added"}],
            [{"mark": "fired"}, {"call": "both", "arg": "v"}, {"mark": "added"}],
            {"d": {"state": "fired", "result": "w"}})

    def test_addboth_sees_failures(self):
        self.check(
            [{"op": "fail", "name": "d", "error": "TestError", "message": "m"},
             {"op": "addBoth", "target": "d", "label": "both", "do": [{"return": None}]}],
            [{"call": "both", "arg": F("TestError", "m")}],
            {"d": {"state": "fired", "result": None}})

    def test_addcallbacks_errback_does_not_see_its_callbacks_error(self):
        # deferred reference "addCallbacks versus addCallback and addErrback"
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallbacks", "target": "d",
              "callback": {"label": "cb", "do": [{"raise": "TestError", "message": "in-cb"}]},
              "errback": {"label": "eb", "do": [{"return": "never"}]}},
             {"op": "addErrback", "target": "d", "label": "eb2", "do": [{"return": "later"}]},
             {"op": "callback", "target": "d", "value": 1}],
            [{"call": "cb", "arg": 1}, {"call": "eb2", "arg": F("TestError", "in-cb")}],
            {"d": {"state": "fired", "result": "later"}})

    def test_already_called_top_level_raised(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "errback", "target": "d", "error": "TestError", "message": "late"},
             {"op": "mark", "label": "goes-on"}],
            [{"raised": F("AlreadyCalledError"), "step": 2}, {"mark": "goes-on"}],
            {"d": {"state": "fired", "result": 1}})

    def test_step_error_inside_handler_fails_the_handler(self):
        self.check(
            [{"op": "succeed", "name": "e", "value": 0},
             {"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "cb",
              "do": [{"op": "callback", "target": "e", "value": 1}, {"return": "not reached"}]},
             {"op": "addErrback", "target": "d", "label": "eb", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 1}],
            [{"call": "cb", "arg": 1}, {"call": "eb", "arg": F("AlreadyCalledError")}],
            {"e": {"state": "fired", "result": 0},
             "d": {"state": "fired", "result": F("AlreadyCalledError")}})

    def test_extra_args(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "cb", "args": ["x", 2], "do": [{"raise": "TestErrorB", "message": "b"}]},
             {"op": "addErrback", "target": "d", "label": "eb", "args": [[1]], "do": [{"return": 0}]},
             {"op": "addCallbacks", "target": "d", "callback": {"label": "c2", "args": [True]},
              "errback": {"label": "e2", "args": [False]}},
             {"op": "callback", "target": "d", "value": None}],
            [{"call": "cb", "arg": None, "args": ["x", 2]},
             {"call": "eb", "arg": F("TestErrorB", "b"), "args": [[1]]},
             {"call": "c2", "arg": 0, "args": [True]}],
            {"d": {"state": "fired", "result": None}})


class Chaining(DriverTestCase):
    def test_returned_deferred_waits_then_continues(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addCallback", "target": "d", "label": "after", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "mark", "label": "waiting"}],
            [{"call": "cb", "arg": 1}, {"mark": "waiting"}],
            {"d": {"state": "waiting", "inner": "e"}, "e": {"state": "pending"}})

    def test_returned_deferred_result_moves_to_outer(self):
        # defer.py _runCallbacks: the inner Deferred's result is handed over
        # and the inner one is left with None.
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addCallback", "target": "d", "label": "after", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "callback", "target": "e", "value": 2}],
            [{"call": "cb", "arg": 1}, {"call": "after", "arg": 2}],
            {"d": {"state": "fired", "result": 2}, "e": {"state": "fired", "result": None}})

    def test_returned_fired_deferred_is_taken_at_once(self):
        self.check(
            [{"op": "succeed", "name": "e", "value": "inner"},
             {"op": "succeed", "name": "d", "value": 0},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addCallback", "target": "d", "label": "after", "do": ["returnArgument"]}],
            [{"call": "cb", "arg": 0}, {"call": "after", "arg": "inner"}],
            {"e": {"state": "fired", "result": None}, "d": {"state": "fired", "result": "inner"}})

    def test_return_value_deferred_encoding(self):
        # a Deferred as a plain result (not returned by a handler) is encoded by name
        self.check(
            [{"op": "new", "name": "e"},
             {"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"return": [{"$deferred": "e"}]}]},
             {"op": "callback", "target": "d", "value": 0}],
            [{"call": "cb", "arg": 0}],
            {"e": {"state": "pending"}, "d": {"state": "fired", "result": [D("e")]}})

    def test_chain_deferred(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "chainDeferred", "target": "d", "to": "e"},
             {"op": "addCallback", "target": "e", "label": "ecb", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 7}],
            [{"call": "ecb", "arg": 7}],
            # d's result is what e.callback returned: None
            {"d": {"state": "fired", "result": None}, "e": {"state": "fired", "result": 7}})

    def test_chain_deferred_failure(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "chainDeferred", "target": "d", "to": "e"},
             {"op": "addErrback", "target": "e", "label": "eeb", "do": [{"return": "handled"}]},
             {"op": "errback", "target": "d", "error": "TestError", "message": "f"}],
            [{"call": "eeb", "arg": F("TestError", "f")}],
            {"d": {"state": "fired", "result": None}, "e": {"state": "fired", "result": "handled"}})


class PauseCancel(DriverTestCase):
    def test_pause_holds_result(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "pause", "target": "d"}, {"op": "pause", "target": "d"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"return": 2}]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "unpause", "target": "d"}],
            [],
            {"d": {"state": "paused", "paused": 1, "result": 1}})

    def test_unpause_runs(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "pause", "target": "d"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"return": 2}]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "mark", "label": "unpausing"},
             {"op": "unpause", "target": "d"}],
            [{"mark": "unpausing"}, {"call": "cb", "arg": 1}],
            {"d": {"state": "fired", "result": 2}})

    def test_pending_paused(self):
        self.check([{"op": "new", "name": "d"}, {"op": "pause", "target": "d"}],
                   [], {"d": {"state": "pending", "paused": 1}})

    def test_waiting_and_paused(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "pause", "target": "d"}],
            [{"call": "cb", "arg": 1}],
            {"d": {"state": "waiting", "inner": "e", "paused": 1}, "e": {"state": "pending"}})

    def test_inner_fires_while_outer_paused(self):
        # defer.py _runCallbacks: the chainee gets the result and loses its
        # chain pause, then stops at the program's pause: paused, not waiting
        # (its _chainedTo is stale at this point).
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addCallback", "target": "d", "label": "after", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "pause", "target": "d"},
             {"op": "callback", "target": "e", "value": 2}],
            [{"call": "cb", "arg": 1}],
            {"d": {"state": "paused", "paused": 1, "result": 2}, "e": {"state": "fired", "result": None}})

    def test_chain_deferred_target_paused(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "new", "name": "b"},
             {"op": "chainDeferred", "target": "a", "to": "b"},
             {"op": "pause", "target": "b"},
             {"op": "callback", "target": "a", "value": 3}],
            [],
            {"a": {"state": "fired", "result": None}, "b": {"state": "paused", "paused": 1, "result": 3}})

    def test_cancel_without_canceller(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"trap": ["CancelledError"]}, {"return": "c"}]},
             {"op": "cancel", "target": "d"},
             {"op": "callback", "target": "d", "value": "late"},   # suppressed once
             {"op": "callback", "target": "d", "value": "later"}],  # now AlreadyCalledError
            [{"call": "eb", "arg": F("CancelledError")},
             {"raised": F("AlreadyCalledError"), "step": 4}],
            {"d": {"state": "fired", "result": "c"}})

    def test_canceller_receives_deferred(self):
        self.check(
            [{"op": "new", "name": "d", "canceller": {"label": "can", "do": [{"op": "mark", "label": "in-canceller"}]}},
             {"op": "cancel", "target": "d"},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"return": None}]}],
            [{"call": "can", "arg": D("d")}, {"mark": "in-canceller"},
             {"call": "eb", "arg": F("CancelledError")}],
            {"d": {"state": "fired", "result": None}})

    def test_canceller_that_fires_wins(self):
        self.check(
            [{"op": "new", "name": "d", "canceller": {"label": "can", "do": [
                {"op": "callback", "target": "d", "value": "from-canceller"}]}},
             {"op": "cancel", "target": "d"},
             {"op": "callback", "target": "d", "value": 1}],
            [{"call": "can", "arg": D("d")}, {"raised": F("AlreadyCalledError"), "step": 2}],
            {"d": {"state": "fired", "result": "from-canceller"}})

    def test_cancel_fired_does_nothing(self):
        self.check(
            [{"op": "succeed", "name": "d", "value": 1}, {"op": "cancel", "target": "d"}],
            [], {"d": {"state": "fired", "result": 1}})

    def test_cancel_waiting_forwards(self):
        self.check(
            [{"op": "new", "name": "d"}, {"op": "new", "name": "e"},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addErrback", "target": "d", "label": "eb", "do": ["returnArgument"]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "cancel", "target": "d"}],
            [{"call": "cb", "arg": 1}, {"call": "eb", "arg": F("CancelledError")}],
            {"d": {"state": "fired", "result": F("CancelledError")},
             "e": {"state": "fired", "result": None}})


class Aggregates(DriverTestCase):
    def test_deferred_list_member_order(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "new", "name": "b"},
             {"op": "DeferredList", "name": "l", "members": ["a", "b"]},
             {"op": "addCallback", "target": "l", "label": "cb", "do": ["returnArgument"]},
             {"op": "callback", "target": "b", "value": 2},
             {"op": "mark", "label": "one"},
             {"op": "callback", "target": "a", "value": 1}],
            [{"mark": "one"}, {"call": "cb", "arg": [[True, 1], [True, 2]]}],
            {"a": {"state": "fired", "result": 1}, "b": {"state": "fired", "result": 2},
             "l": {"state": "fired", "result": [[True, 1], [True, 2]]}})

    def test_deferred_list_failure_and_consume(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "succeed", "name": "b", "value": "B"},
             {"op": "DeferredList", "name": "l", "members": ["a", "b"], "consumeErrors": True},
             {"op": "errback", "target": "a", "error": "TestError", "message": "x"}],
            [],
            {"a": {"state": "fired", "result": None}, "b": {"state": "fired", "result": "B"},
             "l": {"state": "fired", "result": [[False, F("TestError", "x")], [True, "B"]]}})

    def test_deferred_list_without_consume_keeps_failure(self):
        self.check(
            [{"op": "fail", "name": "a", "error": "TestErrorB", "message": "y"},
             {"op": "DeferredList", "name": "l", "members": ["a"]},
             {"op": "addErrback", "target": "a", "label": "eb", "do": [{"return": 0}]}],
            [{"call": "eb", "arg": F("TestErrorB", "y")}],
            {"a": {"state": "fired", "result": 0},
             "l": {"state": "fired", "result": [[False, F("TestErrorB", "y")]]}})

    def test_empty_deferred_list(self):
        self.check([{"op": "DeferredList", "name": "l", "members": []}],
                   [], {"l": {"state": "fired", "result": []}})

    def test_fire_on_one_callback(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "new", "name": "b"},
             {"op": "DeferredList", "name": "l", "members": ["a", "b"], "fireOnOneCallback": True},
             {"op": "callback", "target": "b", "value": "bee"}],
            [],
            {"a": {"state": "pending"}, "b": {"state": "fired", "result": "bee"},
             "l": {"state": "fired", "result": ["bee", 1]}})

    def test_fire_on_one_errback(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "new", "name": "b"},
             {"op": "DeferredList", "name": "l", "members": ["a", "b"], "fireOnOneErrback": True,
              "consumeErrors": True},
             {"op": "addErrback", "target": "l", "label": "eb", "do": [{"return": "seen"}]},
             {"op": "errback", "target": "b", "error": "TestErrorA", "message": "bad"}],
            [{"call": "eb", "arg": {"$failure": "FirstError", "index": 1, "sub": F("TestErrorA", "bad")}}],
            {"a": {"state": "pending"}, "b": {"state": "fired", "result": None},
             "l": {"state": "fired", "result": "seen"}})

    def test_gather_results(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "succeed", "name": "b", "value": 2},
             {"op": "gatherResults", "name": "g", "members": ["a", "b"]},
             {"op": "callback", "target": "a", "value": 1}],
            [],
            {"a": {"state": "fired", "result": 1}, "b": {"state": "fired", "result": 2},
             "g": {"state": "fired", "result": [1, 2]}})

    def test_gather_results_first_error(self):
        self.check(
            [{"op": "succeed", "name": "a", "value": 1}, {"op": "new", "name": "b"},
             {"op": "gatherResults", "name": "g", "members": ["a", "b"], "consumeErrors": True},
             {"op": "addErrback", "target": "g", "label": "eb", "do": ["returnArgument"]},
             {"op": "errback", "target": "b", "error": "TestError", "message": "g"}],
            [{"call": "eb", "arg": {"$failure": "FirstError", "index": 1, "sub": F("TestError", "g")}}],
            {"a": {"state": "fired", "result": 1}, "b": {"state": "fired", "result": None},
             "g": {"state": "fired", "result": {"$failure": "FirstError", "index": 1, "sub": F("TestError", "g")}}})

    def test_cancel_deferred_list_cancels_members(self):
        self.check(
            [{"op": "new", "name": "a"}, {"op": "new", "name": "b"},
             {"op": "DeferredList", "name": "l", "members": ["a", "b"], "consumeErrors": True},
             {"op": "cancel", "target": "l"}],
            [],
            {"a": {"state": "fired", "result": None}, "b": {"state": "fired", "result": None},
             "l": {"state": "fired", "result": [[False, F("CancelledError")], [False, F("CancelledError")]]}})

    def test_maybe_deferred(self):
        self.check(
            [{"op": "maybeDeferred", "name": "v", "label": "f", "do": [{"return": 5}]},
             {"op": "maybeDeferred", "name": "x", "label": "g", "args": [1, "two"],
              "do": [{"raise": "TestErrorA", "message": "sync"}]},
             {"op": "addErrback", "target": "x", "label": "eb", "do": [{"return": "caught"}]},
             {"op": "maybeDeferred", "name": "fl", "label": "h", "do": [{"return": F("TestErrorB", "ret")}]},
             {"op": "addErrback", "target": "fl", "label": "eb2", "do": ["returnArgument"]}],
            [{"call": "f"}, {"call": "g", "args": [1, "two"]},
             {"call": "eb", "arg": F("TestErrorA", "sync")},
             {"call": "h"}, {"call": "eb2", "arg": F("TestErrorB", "ret")}],
            {"v": {"state": "fired", "result": 5}, "x": {"state": "fired", "result": "caught"},
             "fl": {"state": "fired", "result": F("TestErrorB", "ret")}})

    def test_maybe_deferred_returning_deferred_is_that_deferred(self):
        obs = self.observe(
            [{"op": "new", "name": "e"},
             {"op": "maybeDeferred", "name": "m", "label": "f", "do": [{"returnDeferred": "e"}]},
             {"op": "addCallback", "target": "m", "label": "cb", "do": [{"return": "via-m"}]},
             {"op": "callback", "target": "e", "value": 1}])
        # maybeDeferred returns the very same Deferred: e and m are one object
        self.assertEqual(obs["trace"], [{"call": "f"}, {"call": "cb", "arg": 1}])
        self.assertEqual(obs["final"]["e"], {"state": "fired", "result": "via-m"})
        self.assertEqual(obs["final"]["m"], {"state": "fired", "result": "via-m"})


class Timeout(DriverTestCase):
    def test_times_out_with_timeout_error(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addTimeout", "target": "d", "seconds": 5},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"trap": ["TimeoutError"]}, {"return": "t"}]},
             {"op": "advance", "seconds": 4.5},
             {"op": "mark", "label": "not-yet"},
             {"op": "advance", "seconds": 0.5}],
            [{"mark": "not-yet"}, {"call": "eb", "arg": F("TimeoutError")}],
            {"d": {"state": "fired", "result": "t"}})

    def test_fired_before_timeout(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addTimeout", "target": "d", "seconds": 1},
             {"op": "callback", "target": "d", "value": "in-time"},
             {"op": "advance", "seconds": 10}],
            [], {"d": {"state": "fired", "result": "in-time"}})

    def test_on_timeout_cancel(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addTimeout", "target": "d", "seconds": 3,
              "onTimeoutCancel": {"label": "otc", "do": [{"return": "custom"}]}},
             {"op": "advance", "seconds": 3}],
            [{"call": "otc", "arg": F("CancelledError"), "args": [3]}],
            {"d": {"state": "fired", "result": "custom"}})

    def test_timeout_with_canceller_that_fires(self):
        self.check(
            [{"op": "new", "name": "d", "canceller": {"label": "can", "do": [
                {"op": "callback", "target": "d", "value": "cancelled-value"}]}},
             {"op": "addTimeout", "target": "d", "seconds": 1},
             {"op": "advance", "seconds": 1}],
            [{"call": "can", "arg": D("d")}],
            {"d": {"state": "fired", "result": "cancelled-value"}})


class Primitives(DriverTestCase):
    def test_lock(self):
        self.check(
            [{"op": "DeferredLock", "name": "L"},
             {"op": "acquire", "target": "L", "name": "a"},
             {"op": "acquire", "target": "L", "name": "b"},
             {"op": "addCallback", "target": "b", "label": "got", "do": [{"return": "b-has-it"}]},
             {"op": "mark", "label": "releasing"},
             {"op": "release", "target": "L"}],
            [{"mark": "releasing"}, {"call": "got", "arg": {"$object": "L"}}],
            {"L": {"locked": True, "waiting": 0},
             "a": {"state": "fired", "result": {"$object": "L"}},
             "b": {"state": "fired", "result": "b-has-it"}})

    def test_lock_waiting_and_cancel(self):
        self.check(
            [{"op": "DeferredLock", "name": "L"},
             {"op": "acquire", "target": "L", "name": "a"},
             {"op": "acquire", "target": "L", "name": "b"},
             {"op": "acquire", "target": "L", "name": "c"},
             {"op": "addErrback", "target": "c", "label": "eb", "do": [{"return": None}]},
             {"op": "cancel", "target": "c"}],
            [{"call": "eb", "arg": F("CancelledError")}],
            {"L": {"locked": True, "waiting": 1},
             "a": {"state": "fired", "result": {"$object": "L"}},
             "b": {"state": "pending"}, "c": {"state": "fired", "result": None}})

    def test_release_unlocked_lock_raises(self):
        obs = self.observe([{"op": "DeferredLock", "name": "L"}, {"op": "release", "target": "L"}])
        self.assertEqual(len(obs["trace"]), 1)
        self.assertEqual(obs["trace"][0]["step"], 1)
        self.assertEqual(obs["trace"][0]["raised"]["$failure"], "Other:AssertionError")

    def test_lock_run(self):
        self.check(
            [{"op": "DeferredLock", "name": "L"},
             {"op": "run", "target": "L", "name": "r", "label": "f", "args": ["a"], "do": [{"return": "ran"}]}],
            [{"call": "f", "args": ["a"]}],
            {"L": {"locked": False, "waiting": 0}, "r": {"state": "fired", "result": "ran"}})

    def test_lock_run_waits_for_returned_deferred(self):
        self.check(
            [{"op": "DeferredLock", "name": "L"}, {"op": "new", "name": "work"},
             {"op": "run", "target": "L", "name": "r", "label": "f", "do": [{"returnDeferred": "work"}]},
             {"op": "mark", "label": "running"},
             {"op": "callback", "target": "work", "value": "done"}],
            [{"call": "f"}, {"mark": "running"}],
            {"L": {"locked": False, "waiting": 0}, "work": {"state": "fired", "result": None},
             "r": {"state": "fired", "result": "done"}})

    def test_semaphore(self):
        self.check(
            [{"op": "DeferredSemaphore", "name": "S", "tokens": 2},
             {"op": "acquire", "target": "S", "name": "a"},
             {"op": "acquire", "target": "S", "name": "b"},
             {"op": "acquire", "target": "S", "name": "c"}],
            [],
            {"S": {"tokens": 0, "limit": 2, "waiting": 1},
             "a": {"state": "fired", "result": {"$object": "S"}},
             "b": {"state": "fired", "result": {"$object": "S"}},
             "c": {"state": "pending"}})

    def test_semaphore_release(self):
        self.check(
            [{"op": "DeferredSemaphore", "name": "S", "tokens": 1},
             {"op": "acquire", "target": "S", "name": "a"},
             {"op": "release", "target": "S"},
             {"op": "run", "target": "S", "name": "r", "label": "f", "do": [{"raise": "TestError", "message": "in-run"}]},
             {"op": "addErrback", "target": "r", "label": "eb", "do": ["returnArgument"]}],
            [{"call": "f"}, {"call": "eb", "arg": F("TestError", "in-run")}],
            {"S": {"tokens": 1, "limit": 1, "waiting": 0},
             "a": {"state": "fired", "result": {"$object": "S"}},
             "r": {"state": "fired", "result": F("TestError", "in-run")}})

    def test_queue(self):
        self.check(
            [{"op": "DeferredQueue", "name": "Q"},
             {"op": "put", "target": "Q", "value": 1}, {"op": "put", "target": "Q", "value": {"k": [2]}},
             {"op": "get", "target": "Q", "name": "g1"},
             {"op": "get", "target": "Q", "name": "g2"},
             {"op": "get", "target": "Q", "name": "g3"},
             {"op": "get", "target": "Q", "name": "g4"},
             {"op": "put", "target": "Q", "value": 3}],
            [],
            {"Q": {"pending": [], "waiting": 1},
             "g1": {"state": "fired", "result": 1}, "g2": {"state": "fired", "result": {"k": [2]}},
             "g3": {"state": "fired", "result": 3}, "g4": {"state": "pending"}})

    def test_queue_limits(self):
        self.check(
            [{"op": "DeferredQueue", "name": "Q", "size": 1, "backlog": 1},
             {"op": "put", "target": "Q", "value": "a"},
             {"op": "put", "target": "Q", "value": "b"},
             {"op": "get", "target": "Q", "name": "g1"},
             {"op": "get", "target": "Q", "name": "g2"},
             {"op": "get", "target": "Q", "name": "g3"}],
            [{"raised": F("QueueOverflow"), "step": 2}, {"raised": F("QueueUnderflow"), "step": 5}],
            {"Q": {"pending": [], "waiting": 1},
             "g1": {"state": "fired", "result": "a"}, "g2": {"state": "pending"}})


class Coroutines(DriverTestCase):
    def test_await_pending_then_return(self):
        self.check(
            [{"op": "new", "name": "a"},
             {"op": "coroutine", "name": "c", "body": [
                 {"op": "mark", "label": "started"},
                 {"op": "await", "target": "a", "label": "w"},
                 {"return": "done"}]},
             {"op": "mark", "label": "created"},
             {"op": "callback", "target": "a", "value": 1}],
            [{"mark": "started"}, {"mark": "created"}, {"call": "w", "arg": 1}],
            # _inlineCallbacks' gotResult (added with addBoth) returns None
            {"a": {"state": "fired", "result": None}, "c": {"state": "fired", "result": "done"}})

    def test_await_fired_leaves_result(self):
        self.check(
            [{"op": "succeed", "name": "a", "value": "ready"},
             {"op": "coroutine", "name": "c", "body": [{"op": "await", "target": "a", "label": "w"}]}],
            [{"call": "w", "arg": "ready"}],
            {"a": {"state": "fired", "result": "ready"}, "c": {"state": "fired", "result": None}})

    def test_await_failure_caught_and_uncaught(self):
        self.check(
            [{"op": "fail", "name": "a", "error": "TestErrorA1", "message": "one"},
             {"op": "new", "name": "b"},
             {"op": "coroutine", "name": "c", "body": [
                 {"op": "await", "target": "a", "label": "w1", "catch": ["TestErrorA"]},
                 {"op": "await", "target": "b", "label": "w2", "catch": ["TestErrorB"]},
                 {"return": "unreached"}]},
             {"op": "addErrback", "target": "c", "label": "eb", "do": [{"return": "handled"}]},
             {"op": "errback", "target": "b", "error": "TestErrorA", "message": "two"}],
            [{"call": "w1", "arg": F("TestErrorA1", "one")},
             {"call": "w2", "arg": F("TestErrorA", "two")},
             {"call": "eb", "arg": F("TestErrorA", "two")}],
            {"a": {"state": "fired", "result": F("TestErrorA1", "one")},
             "b": {"state": "fired", "result": None},
             "c": {"state": "fired", "result": "handled"}})

    def test_coroutine_raise(self):
        self.check(
            [{"op": "coroutine", "name": "c", "body": [{"raise": "TestErrorB", "message": "r"}]},
             {"op": "addErrback", "target": "c", "label": "eb", "do": [{"trap": ["TestErrorB"]}]}],
            [{"call": "eb", "arg": F("TestErrorB", "r")}],
            {"c": {"state": "fired", "result": None}})

    def test_cancel_coroutine_cancels_awaited(self):
        self.check(
            [{"op": "new", "name": "a"},
             {"op": "coroutine", "name": "c", "body": [{"op": "await", "target": "a", "label": "w"}]},
             {"op": "addErrback", "target": "c", "label": "eb", "do": [{"return": "x"}]},
             {"op": "cancel", "target": "c"}],
            [{"call": "w", "arg": F("CancelledError")}, {"call": "eb", "arg": F("CancelledError")}],
            {"a": {"state": "fired", "result": None}, "c": {"state": "fired", "result": "x"}})

    def test_await_outside_coroutine_errors(self):
        r = self.driver.run([{"op": "new", "name": "a"},
                             {"op": "addCallback", "target": "a", "label": "cb",
                              "do": [{"op": "await", "target": "a", "label": "w"}]},
                             {"op": "callback", "target": "a", "value": 1}])
        self.assertEqual(r["outcome"], "errored")


class Unhandled(DriverTestCase):
    def test_drop_reports_unhandled(self):
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "errback", "target": "d", "error": "TestError", "message": "lost"},
             {"op": "mark", "label": "before"},
             {"op": "drop", "target": "d"},
             {"op": "mark", "label": "after"}],
            [{"mark": "before"}, {"unhandled": F("TestError", "lost")}, {"mark": "after"}],
            {})

    def test_drop_handled_reports_nothing(self):
        self.check(
            [{"op": "fail", "name": "d", "error": "TestError", "message": "m"},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"return": None}]},
             {"op": "drop", "target": "d"}],
            [{"call": "eb", "arg": F("TestError", "m")}], {})

    def test_drop_with_handler_closure_in_cycle(self):
        # the handler refers to d by name only; dropping d must release it
        self.check(
            [{"op": "new", "name": "d"},
             {"op": "addCallback", "target": "d", "label": "cb",
              "do": [{"op": "mark", "label": "cb-ran"}, {"raise": "TestErrorA", "message": "in-cb"}]},
             {"op": "callback", "target": "d", "value": 1},
             {"op": "drop", "target": "d"},
             {"op": "mark", "label": "end"}],
            [{"call": "cb", "arg": 1}, {"mark": "cb-ran"},
             {"unhandled": F("TestErrorA", "in-cb")}, {"mark": "end"}],
            {})

    def test_waiting_deferred_does_not_report_inner_failure(self):
        # the inner Deferred's failure was handed to d; dropping e reports nothing
        self.check(
            [{"op": "fail", "name": "e", "error": "TestError", "message": "inner"},
             {"op": "succeed", "name": "d", "value": 0},
             {"op": "addCallback", "target": "d", "label": "cb", "do": [{"returnDeferred": "e"}]},
             {"op": "addErrback", "target": "d", "label": "eb", "do": [{"return": "ok"}]},
             {"op": "drop", "target": "e"}],
            [{"call": "cb", "arg": 0}, {"call": "eb", "arg": F("TestError", "inner")}],
            {"d": {"state": "fired", "result": "ok"}})

    def test_no_leak_into_next_case(self):
        self.check([{"op": "fail", "name": "d", "error": "TestError", "message": "left"}],
                   [], {"d": {"state": "fired", "result": F("TestError", "left")}})
        # the previous case's failure is collected at teardown, not reported here
        self.check([{"op": "mark", "label": "clean"}], [{"mark": "clean"}], {})


if __name__ == "__main__":
    unittest.main()

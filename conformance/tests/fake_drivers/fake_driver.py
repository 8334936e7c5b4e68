#!/usr/bin/python3
"""A fake conformance driver for testing the runner (python3 stdlib only).

It answers from a canned table (--table FILE: {case id: observations}); a case
missing from the table is observed as {"trace": [{"mark": CASE}], "final": {}}.
With --mode it misbehaves, on every case whose id contains --on SUBSTRING
(default "victim"), or at the handshake for the handshake-* modes:

  ok            behave (default)
  crash         print half a line, then exit with status 3
  segv          kill itself with SIGSEGV
  hang          never answer
  hang-child    start a grandchild holding stdout open, then never answer
  garbage       print a line that is not JSON
  huge          print a line longer than 16 MiB
  wrong-seq     answer with the wrong seq
  close-stdout  close standard output and keep running
  exit          exit with status 0 without answering
  flood         write 20 MiB to stderr, then answer correctly
  slow          sleep 0.3 s, then answer correctly
  errored       answer outcome "errored"
  skipped       answer outcome "skipped"
  extra-line    answer correctly, then print an extra line
  handshake-version  answer the handshake with protocol 2
  handshake-error    answer the handshake with {"error": ...} and exit
  handshake-hang     never answer the handshake
  handshake-garbage  answer the handshake with garbage
  handshake-exit     exit before answering the handshake
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--table")
    p.add_argument("--mode", default="ok")
    p.add_argument("--on", default="victim")
    p.add_argument("--features", default="core")
    a = p.parse_args()
    table = {}
    if a.table:
        with open(a.table) as f:
            table = json.load(f)
    out = sys.stdout

    def send(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    for line in sys.stdin:
        req = json.loads(line)
        cmd = req.get("cmd")
        if cmd == "stop":
            return 0
        if cmd == "start":
            sys.stderr.write("fake driver starting, mode %s\n" % a.mode)
            sys.stderr.flush()
            if a.mode == "handshake-version":
                send({"protocol": 2, "implementation": {"name": "fake"}, "features": []})
            elif a.mode == "handshake-error":
                send({"error": "cannot start the fake implementation"})
                return 1
            elif a.mode == "handshake-hang":
                time.sleep(3600)
            elif a.mode == "handshake-garbage":
                out.write("hello, I am not JSON\n")
                out.flush()
            elif a.mode == "handshake-exit":
                return 4
            else:
                send({"protocol": 1,
                      "implementation": {"name": "fake", "version": "1.0", "language": "python"},
                      "features": [f for f in a.features.split(",") if f]})
            continue
        if cmd != "run":
            send({"seq": req.get("seq"), "outcome": "errored", "message": "unknown cmd"})
            continue
        seq, case = req["seq"], req["case"]
        obs = table.get(case, {"trace": [{"mark": case}], "final": {}})
        answer = {"seq": seq, "outcome": "observed", "observations": obs}
        mode = a.mode if a.on in case else "ok"
        if mode == "crash":
            out.write('{"seq": %d, "outc' % seq)
            out.flush()
            sys.stderr.write("fake driver: crashing now\n")
            sys.stderr.flush()
            os._exit(3)
        elif mode == "segv":
            sys.stderr.write("fake driver: segfaulting now\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGSEGV)
        elif mode == "hang":
            sys.stderr.write("fake driver: hanging now\n")
            sys.stderr.flush()
            time.sleep(3600)
        elif mode == "hang-child":
            subprocess.Popen(["sleep", "3600"])
            time.sleep(3600)
        elif mode == "garbage":
            out.write("Traceback (most recent call last): this is not JSON\n")
            out.flush()
            continue
        elif mode == "huge":
            chunk = "x" * (1 << 20)
            for _ in range(17):
                out.write(chunk)
            out.write("\n")
            out.flush()
            continue
        elif mode == "wrong-seq":
            answer["seq"] = seq + 100
        elif mode == "close-stdout":
            out.close()
            os.close(1)
            time.sleep(3600)
        elif mode == "exit":
            return 0
        elif mode == "flood":
            junk = ("stderr flood " * 100 + "\n") * 100
            for _ in range(20 * (1 << 20) // len(junk)):
                sys.stderr.write(junk)
            sys.stderr.flush()
        elif mode == "slow":
            time.sleep(0.3)
        elif mode == "errored":
            answer = {"seq": seq, "outcome": "errored", "message": "unknown step op: frobnicate"}
        elif mode == "skipped":
            answer = {"seq": seq, "outcome": "skipped", "reason": "not supported here"}
        send(answer)
        if mode == "extra-line":
            send({"seq": seq, "outcome": "observed", "observations": obs})
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""gcov for lcov's --gcov-tool: runs gcov, then drops exception edges.

Debian's lcov 1.16 defines geninfo's JSON reader twice, and the second
definition (the one Perl keeps) ignores geninfo_no_exception_branch: every
edge an exception could take out of a call is counted as a branch. geninfo
runs gcov in an empty temporary folder and reads the *.gcov.json.gz it
leaves there, so removing the branches gcov marks "throw" from those files
gives what that option promises."""
import glob
import gzip
import json
import os
import subprocess
import sys

rc = subprocess.call([os.environ.get("GCOV", "gcov")] + sys.argv[1:])
if rc == 0 and {"-i", "--intermediate-format", "--json-format"} & set(sys.argv[1:]):
    for path in glob.glob("*.gcov.json.gz"):
        with gzip.open(path, "rt") as f:
            data = json.load(f)
        for source in data.get("files", []):
            for line in source.get("lines", []):
                line["branches"] = [b for b in line.get("branches", []) if not b.get("throw")]
        with gzip.open(path, "wt") as f:
            json.dump(data, f)
sys.exit(rc)

#!/usr/bin/env python3
"""Runs the chain-throughput benchmarks and writes the report (bench/README.md).

C++ implementations: the Google Benchmark binaries of bench/ (one process per
workload and n, so that a crash -- a stack overflow of a recursive
implementation -- costs one cell, reported n/a, not the run). Others: the
conformance drivers' `bench` request (conformance/PROTOCOL.md), timed inside
the driver's own process.

Writes into --output: report.md, results.json (or --json FILE), chain.svg and
workloads.svg (gnuplot), gbench-IMPL.json (Google Benchmark's own JSON output,
all cells of one binary merged).
"""
import argparse
import datetime
import json
import os
import platform
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def fmt_ns(v):
    if v is None:
        return "n/a"
    if v >= 100000:
        return "%.0f µs" % (v / 1000.0)
    if v >= 1000:
        return "%.2f µs" % (v / 1000.0)
    if v >= 100:
        return "%.0f ns" % v
    if v >= 10:
        return "%.1f ns" % v
    return "%.2f ns" % v


def fmt_ratio(r):
    if r is None:
        return ""
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    return "%.2fx" % r


def fmt_rate(ns):
    if not ns:
        return "n/a"
    rate = 1e9 / ns
    if rate >= 1e6:
        return "%.1f M/s" % (rate / 1e6)
    if rate >= 1e3:
        return "%.1f k/s" % (rate / 1e3)
    return "%.0f /s" % rate


# --- machine ----------------------------------------------------------------------

def read_first(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if text else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(build_dir):
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host_os": platform.platform(),
        "cpu": read_first("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory": read_first("/proc/meminfo", "MemTotal"),
        "load_average_start": list(os.getloadavg()),
        "cxx_compiler": None,
        "build_type": None,
        "python": platform.python_version(),
        "node": tool_version(["node", "--version"]),
    }
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_CXX_COMPILER:"):
                    info["cxx_compiler"] = tool_version([line.split("=", 1)[1].strip(), "--version"])
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    info["build_type"] = line.split("=", 1)[1].strip()
    return info


# --- C++ binaries -------------------------------------------------------------------

def run_cxx(impl, build_dir, wspecs, ns, conf, out_dir, timeout):
    """Returns ({cell: result}, version, merged gbench json)."""
    binary = os.path.join(build_dir, "bench", impl["binary"])
    workloads = [w["name"] for w in wspecs]
    cells = {}
    if not os.path.exists(binary):
        why = "not built (%s missing: its library was not found at configure time)" % impl["binary"]
        for w in workloads:
            for n in ns:
                cells["%s/%d" % (w, n)] = {"na": why}
        return cells, None, None
    listing = json.loads(subprocess.run([binary, "--list"], capture_output=True, text=True,
                                        check=True, timeout=30).stdout)
    merged = None
    for wspec in wspecs:
        w = wspec["name"]
        entry = listing["workloads"].get(w)
        cap, cap_why = cap_for(impl, wspec, conf)
        for n in ns:
            name = "%s/%d" % (w, n)
            if entry is None:
                cells[name] = {"na": "workload not implemented in %s" % impl["binary"]}
                continue
            if not entry["runs"]:
                cells[name] = {"na": entry["reason"]}
                continue
            if cap and n > cap:
                cells[name] = capped(cap, cap_why)
                continue
            if entry.get("max_n") and n > entry["max_n"]:
                cells[name] = capped(entry["max_n"], "(in %s)" % impl["binary"])
                continue
            out_json = os.path.join(out_dir, ".gbench-cell.json")
            cmd = [binary, "--workloads=" + w, "--n=%d" % n,
                   "--benchmark_repetitions=%d" % conf["repeat"],
                   "--benchmark_min_time=%g" % conf["min_time"],
                   "--benchmark_format=console", "--benchmark_out_format=json",
                   "--benchmark_out=" + out_json]
            t0 = time.monotonic()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                cells[name] = {"na": "timed out after %d s" % timeout}
                log("%s %s: timed out" % (impl["name"], name))
                continue
            if proc.returncode != 0:
                if proc.returncode < 0:
                    sig = signal.Signals(-proc.returncode).name
                    why = "crashed (%s%s)" % (sig, ": stack overflow, the implementation recurses once "
                                              "per step (8 MiB stack)" if sig == "SIGSEGV" else "")
                else:
                    why = "failed (exit %d): %s" % (proc.returncode, proc.stderr.strip()[-300:])
                cells[name] = {"na": why}
                log("%s %s: %s" % (impl["name"], name, why))
                continue
            with open(out_json) as f:
                data = json.load(f)
            os.remove(out_json)
            if merged is None:
                merged = {"context": data.get("context", {}), "benchmarks": []}
            merged["benchmarks"].extend(data.get("benchmarks", []))
            reps = [b for b in data.get("benchmarks", []) if b.get("run_type") == "iteration"]
            errors = [b.get("error_message") for b in reps if b.get("error_occurred")]
            if errors or not reps:
                cells[name] = {"na": "error: %s" % (errors[0] if errors else "no result")}
                continue
            cells[name] = summarize([b["ns_per_step"] for b in reps],
                                    allocs=[b["allocs_per_step"] for b in reps],
                                    bytes_=[b["bytes_per_step"] for b in reps])
            log("%-13s %-22s %10s  (%.1f s)" % (impl["name"], name, fmt_ns(cells[name]["ns_per_step"]),
                                               time.monotonic() - t0))
    return cells, listing.get("version"), merged


def summarize(samples, allocs=None, bytes_=None):
    med = statistics.median(samples)
    out = {"ns_per_step": med, "steps_per_second": 1e9 / med if med > 0 else None,
           "min": min(samples), "max": max(samples), "samples": samples}
    if allocs is not None:
        out["allocs_per_step"] = statistics.median(allocs)
        out["bytes_per_step"] = statistics.median(bytes_)
    return out


# --- the suite's own speed ----------------------------------------------------------

HARNESS_SCENARIOS = 1000  # per property: enough for a stable rate, a few seconds in all


def run_harness(build_dir, repeat, timeout):
    """How fast the suite itself is: the whole spec loaded and run against the reference in
    process (the wall time of the conform process, start to exit, and its run alone), through
    the reference driver (cases per second), and property scenarios per second in process.
    Medians of `repeat` runs; None where a binary is missing or fails."""
    conform = os.path.join(build_dir, "conformance", "conform")
    props = os.path.join(build_dir, "property-tests", "property-tests")
    out = {}

    def conform_run(impl):
        t0 = time.monotonic()
        done = subprocess.run([conform, "--impl", impl, "--format", "json"], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        wall = time.monotonic() - t0
        report = json.loads(done.stdout)
        if done.returncode != 0 or report["summary"]["passed"] != report["summary"]["cases"]:
            raise RuntimeError("conform --impl %s: exit %d" % (impl, done.returncode))
        return wall, report["duration_seconds"], report["summary"]["cases"]

    for impl, key in (("reference", "in_process"), ("reference-driver", "driver")):
        if not os.path.exists(conform):
            out[key] = {"na": "conform not built"}
            continue
        try:
            runs = [conform_run(impl) for _ in range(repeat)]
        except (OSError, subprocess.SubprocessError, ValueError, KeyError, RuntimeError) as e:
            out[key] = {"na": str(e)}
            continue
        walls, durations = [r[0] for r in runs], [r[1] for r in runs]
        cases = runs[0][2]
        out[key] = {"cases": cases, "wall_seconds": statistics.median(walls),
                    "run_seconds": statistics.median(durations),
                    "cases_per_second": cases / statistics.median(durations),
                    "min_run_seconds": min(durations), "max_run_seconds": max(durations)}
    rates = []
    if os.path.exists(props):
        for i in range(repeat):
            try:
                done = subprocess.run([props, "--impl", "reference", "--scenarios", str(HARNESS_SCENARIOS),
                                       "--seed", str(20261201 + i)], cwd=ROOT, capture_output=True, text=True,
                                      timeout=timeout)
            except (OSError, subprocess.SubprocessError) as e:
                out["properties"] = {"na": str(e)}
                break
            line = next((l for l in done.stdout.splitlines() if l.startswith("throughput:")), "")
            if done.returncode != 0 or not line:
                out["properties"] = {"na": "property-tests exit %d" % done.returncode}
                break
            rates.append(float(line.split()[1]))
    else:
        out["properties"] = {"na": "property-tests not built"}
    if rates:
        out["properties"] = {"scenarios_per_second": statistics.median(rates), "min": min(rates),
                             "max": max(rates), "scenarios_per_property": HARNESS_SCENARIOS}
    return out


def harness_targets(h):
    """The suite's speed targets, in the same form as evaluate_targets'."""
    def target(title, key, field, ok, figure):
        d = h.get(key, {})
        if field not in d:
            return {"target": title, "status": "n/a", "figures": "n/a: %s" % d.get("na", "not run")}
        return {"target": title, "status": "met" if ok(d) else "not met", "figures": figure(d)}

    return [
        target("runner: the whole spec loaded and run in process against the reference in well under "
               "a second (<= 0.5 s, process start to exit)", "in_process", "wall_seconds",
               lambda d: d["wall_seconds"] <= 0.5,
               lambda d: "%d cases: %.3f s start to exit, %.4f s to run them (%s cases/s)" % (
                   d["cases"], d["wall_seconds"], d["run_seconds"], "{:,.0f}".format(d["cases_per_second"]))),
        target("runner: >= 2,000 cases/s out of process, through the reference driver", "driver",
               "cases_per_second", lambda d: d["cases_per_second"] >= 2000,
               lambda d: "%d cases in %.3f s: %s cases/s" % (d["cases"], d["run_seconds"],
                                                             "{:,.0f}".format(d["cases_per_second"]))),
        target("properties: >= 10,000 scenarios/s against the reference in process", "properties",
               "scenarios_per_second", lambda d: d["scenarios_per_second"] >= 10000,
               lambda d: "%s scenarios/s (min %s, max %s; %d scenarios per property)" % (
                   "{:,.0f}".format(d["scenarios_per_second"]), "{:,.0f}".format(d["min"]),
                   "{:,.0f}".format(d["max"]), d["scenarios_per_property"])),
    ]


# --- drivers ---------------------------------------------------------------------------

class Driver:
    def __init__(self, impl_name):
        folder = os.path.join(ROOT, "conformance", "drivers", impl_name)
        with open(os.path.join(folder, "impl.json")) as f:
            spec = json.load(f)
        self.command, self.cwd = spec["command"], folder
        self.proc = None
        self.seq = 0
        self.buf = b""

    def start(self, timeout=60):
        self.proc = subprocess.Popen(self.command, cwd=self.cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buf = b""
        return self.request({"cmd": "start", "protocol": 1}, timeout)

    def request(self, msg, timeout):
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer within %d s" % timeout)
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EOFError("the driver exited (status %s)" % self.proc.poll())
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def bench(self, workload, n, repeat, timeout):
        self.seq += 1
        resp = self.request({"cmd": "bench", "seq": self.seq, "workload": workload, "n": n,
                             "repeat": repeat}, timeout)
        if resp.get("seq") != self.seq:
            raise ValueError("answer with the wrong seq: %r" % resp)
        return resp

    def stop(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.write(b'{"cmd": "stop"}\n')
            self.proc.stdin.flush()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def cap_for(impl, wspec, conf):
    """(largest n to run, why) for this implementation and workload; (None, None): no cap."""
    quick = conf.get("quick")
    w = wspec["name"]
    reason = impl.get("cap_reason", "")
    options = []
    if impl.get("cap"):
        options.append((impl["cap"], reason))
    if w in impl.get("workload_caps", {}):
        options.append((impl["workload_caps"][w], impl.get("workload_cap_reason", reason)))
    if quick and impl.get("quick_cap"):
        options.append((impl["quick_cap"], "in --quick: " + impl.get("quick_reason", reason)))
    if quick and w in impl.get("workload_quick_caps", {}):
        options.append((impl["workload_quick_caps"][w], "in --quick: " + reason))
    if quick and wspec.get("quick_max_n"):
        options.append((wspec["quick_max_n"], "in --quick: " + wspec.get("quick_reason", "")))
    if not options:
        return None, None
    return min(options, key=lambda o: o[0])


def capped(cap, why):
    if why.startswith("in --quick: "):
        return {"na": "n capped at {:,} in --quick: {}".format(cap, why[len("in --quick: "):])}
    return {"na": "n capped at {:,}: {}".format(cap, why)}


def run_driver(impl, wspecs, ns, conf, timeout):
    workloads = [w["name"] for w in wspecs]
    cells = {}
    driver = Driver(impl["impl"])
    version = None
    try:
        hello = driver.start()
        if "error" in hello:
            raise RuntimeError(hello["error"])
        version = "%s %s" % (hello["implementation"]["name"], hello["implementation"].get("version", ""))
    except Exception as e:  # noqa: BLE001
        driver.stop()
        why = "driver did not start: %s" % e
        log("%s: %s" % (impl["name"], why))
        for w in workloads:
            for n in ns:
                cells["%s/%d" % (w, n)] = {"na": why}
        return cells, None
    for wspec in wspecs:
        w = wspec["name"]
        cap, cap_why = cap_for(impl, wspec, conf)
        skipped = None
        for n in ns:
            name = "%s/%d" % (w, n)
            if skipped:
                cells[name] = {"na": skipped}
                continue
            if cap and n > cap:
                cells[name] = capped(cap, cap_why)
                continue
            t0 = time.monotonic()
            try:
                resp = driver.bench(w, n, conf["driver_repeat"], timeout)
            except Exception as e:  # noqa: BLE001
                why = "driver failed: %s" % e
                cells[name] = {"na": why}
                log("%s %s: %s (restarting the driver)" % (impl["name"], name, why))
                driver.stop()
                try:
                    driver.start()
                except Exception:  # noqa: BLE001
                    pass
                continue
            if resp.get("outcome") == "timed":
                cells[name] = summarize(resp["ns_per_step"])
                log("%-13s %-22s %10s  (%.1f s)" % (impl["name"], name,
                                                   fmt_ns(cells[name]["ns_per_step"]),
                                                   time.monotonic() - t0))
            else:
                skipped = "the driver skips it: %s" % resp.get("reason", "?")
                cells[name] = {"na": skipped}
    driver.stop()
    return cells, version


# --- targets -------------------------------------------------------------------------

def evaluate_targets(table, details, ns):
    """Each target: {target, status: met|not met|n/a, figures}."""
    def ns_of(w, n, impl):
        return table.get("%s/%d" % (w, n), {}).get(impl)

    def det(w, n, impl):
        return details.get("%s/%d" % (w, n), {}).get(impl, {})

    out = []

    def add(target, oks, figures):
        oks = [o for o in oks if o is not None]
        status = "n/a" if not oks else ("met" if all(oks) else "not met")
        out.append({"target": target, "status": status, "figures": figures})

    def ratio_target(target, w, impl, other, limit, at=None, faster=False):
        oks, figs = [], []
        for n in (at or ns):
            a, b = ns_of(w, n, impl), ns_of(w, n, other)
            if a is None or b is None:
                figs.append("n=%s: n/a" % "{:,}".format(n))
                continue
            if faster:  # other / impl >= limit
                r = b / a
                oks.append(r >= limit)
                figs.append("n={:,}: {} vs {} = {:.1f}x faster".format(n, fmt_ns(a), fmt_ns(b), r))
            else:  # impl / other <= limit
                r = a / b
                oks.append(r <= limit)
                figs.append("n={:,}: {} vs {} = {:.2f}x".format(n, fmt_ns(a), fmt_ns(b), r))
        add(target, oks, "; ".join(figs))

    def chain_targets(w, note):
        ratio_target("%s: reference within 1.5x of the baseline at every n%s" % (w, note), w, "reference",
                     "baseline", 1.5)
        flat = [(n, ns_of(w, n, "reference")) for n in ns if n >= 1000]
        flat = [(n, v) for n, v in flat if v is not None]
        title = "%s: reference per-step time flat (within 1.5x) from n = 1,000 to 1,000,000%s" % (w, note)
        if len(flat) >= 2:
            vals = [v for _, v in flat]
            r = max(vals) / min(vals)
            add(title, [r <= 1.5], "max/min = %.2fx over %s" % (
                r, ", ".join("{:,}: {}".format(n, fmt_ns(v)) for n, v in flat)))
        else:
            add(title, [], "n/a")
        ratio_target("%s: reference >= 100x faster per step than Twisted at n = 1,000%s" % (w, note), w,
                     "reference", "twisted", 100, at=[1000], faster=True)
        ratio_target("%s: reference >= 5x faster than Node's Promise (n = 1,000)%s" % (w, note), w,
                     "reference", "node-promise", 5, at=[1000], faster=True)
        ratio_target("%s: reference >= 30x faster than boost::future (n = 1,000)%s" % (w, note), w,
                     "reference", "boost-future", 30, at=[1000], faster=True)

    def typed_twin(w, twin):
        # The other implementations' rows of chain-typed are their chain rows.
        for key in list(table):
            if key.startswith(twin + "/"):
                row = table[key]
                base = table.get(key.replace(twin + "/", w + "/", 1), {})
                for impl, v in base.items():
                    if impl != "reference" and row.get(impl) is None:
                        row[impl] = v

    chain_targets("chain", "")
    if any(k.startswith("chain-typed/") for k in table):
        table = {k: dict(v) for k, v in table.items()}
        typed_twin("chain", "chain-typed")
        chain_targets("chain-typed", " (context, not a target: typed handlers)")
    ratio_target("errback-return: reference within 2x of the baseline", "errback-return",
                 "reference", "baseline", 2)
    ratio_target("skip: reference within 2x of the baseline", "skip", "reference", "baseline", 2)

    def absolute(target, w, limit, unit):
        oks, figs = [], []
        for n in ns:
            v = ns_of(w, n, "reference")
            if v is None:
                continue
            oks.append(v <= limit)
            figs.append("n={:,}: {}".format(n, fmt_ns(v)))
        add(target, oks, "; ".join(figs) if figs else "n/a: %s" % (
            det(w, ns[0], "reference").get("na") or "not measured"))

    absolute("nested-later: reference <= 60 ns per level", "nested-later", 60, "level")
    absolute("list: reference <= 40 ns per member (in order)", "list", 40, "member")
    absolute("list-reverse: reference <= 40 ns per member (reverse order)", "list-reverse", 40, "member")
    absolute("await of a fired Deferred: reference <= 5 ns", "await", 5, "await")

    # Allocations: handlers with small captures are stored inline.
    oks, figs = [], []
    for w in ("chain", "chain-typed"):
        for n in ns:
            d = det(w, n, "reference")
            if "allocs_per_step" in d and n >= 1000:
                oks.append(d["allocs_per_step"] <= 0.05)
                figs.append("{} n={:,}: {:.4f} allocs/step".format(w, n, d["allocs_per_step"]))
    add("no heap allocation per added handler whose captures fit in two pointers "
        "(chain: captureless, chain-typed: two pointers captured; n >= 1,000: <= 0.05 allocations "
        "per step, i.e. step-chunk growth only)", oks, "; ".join(figs))
    d = det("new", ns[0], "reference") if details else {}
    figs, oks = [], []
    for n in ns:
        d = det("new", n, "reference")
        if "allocs_per_step" in d:
            oks.append(d["allocs_per_step"] <= 1.0 + 1e-9)
            figs.append("n={:,}: {:.3f} allocs and {:.0f} bytes per Deferred".format(
                n, d["allocs_per_step"], d["bytes_per_step"]))
    add("a Deferred is at most 1 allocation (workload new: make and fire a Deferred)", oks, "; ".join(figs))
    return out


# --- outputs ---------------------------------------------------------------------------

def write_chart(out_dir, table, impls, workloads, ns):
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        log("gnuplot not found (Debian gnuplot-nox): no chart")
        return []
    data_dir = os.path.join(out_dir, ".chart-data")
    os.makedirs(data_dir, exist_ok=True)

    def series(w, impl):
        pts = [(n, table.get("%s/%d" % (w, n), {}).get(impl)) for n in ns]
        return [(n, v) for n, v in pts if v is not None]

    def plot_lines(w):
        lines = []
        for i, impl in enumerate(impls):
            pts = series(w, impl)
            if not pts:
                continue
            path = os.path.join(data_dir, "%s-%s.dat" % (w, impl))
            with open(path, "w") as f:
                for n, v in pts:
                    f.write("%d %g\n" % (n, v))
            lines.append("'%s' using 1:2 with linespoints ls %d title '%s'" % (path, i + 1, impl))
        return lines

    colors = ["#000000", "#d62728", "#1f77b4", "#9467bd", "#8c564b", "#2ca02c", "#ff7f0e",
              "#17becf", "#e377c2", "#7f7f7f", "#bcbd22"]
    styles = "\n".join("set style line %d lw 2 pt %d ps 0.8 lc rgb '%s'" % (
        i + 1, (i % 7) + 1, colors[i % len(colors)]) for i in range(len(impls)))
    made = []
    chain = plot_lines("chain")
    script = """set terminal svg size 900,560 dynamic font 'sans,12' background '#ffffff'
set output '{out}'
set logscale xy
set format x '10^{{%L}}'
set xlabel 'n (callbacks in the chain)'
set ylabel 'ns per step'
set title 'chain: time per callback against chain length (log-log; lower is better)'
set key outside right
set grid
{styles}
plot {lines}
""".format(out=os.path.join(out_dir, "chain.svg"), styles=styles, lines=", \\\n     ".join(chain))
    if chain:
        subprocess.run([gnuplot], input=script, text=True, check=True)
        made.append("chain.svg")

    panels = [w for w in workloads if any(series(w, i) for i in impls)]
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    parts = ["""set terminal svg size 1500,{h} dynamic font 'sans,10' background '#ffffff'
set output '{out}'
set logscale xy
set format x '10^{{%L}}'
set grid
{styles}
set multiplot layout {rows},{cols} title 'ns per step against n, per workload (log-log)'
""".format(h=340 * rows, out=os.path.join(out_dir, "workloads.svg"), styles=styles, rows=rows, cols=cols)]
    for w in panels:
        lines = plot_lines(w)
        parts.append("set title '%s'\nset key left top font ',8'\nplot %s\n" % (w, ", ".join(lines)))
    parts.append("unset multiplot\n")
    if panels:
        subprocess.run([gnuplot], input="".join(parts), text=True, check=True)
        made.append("workloads.svg")
    shutil.rmtree(data_dir, ignore_errors=True)
    return made


def markdown(result, impls, workloads, ns, charts):
    m = result["machine"]
    lines = []
    lines.append("# Chain-throughput benchmarks")
    lines.append("")
    lines.append("Made by `%s` on %s." % (result["command"], m["date"]))
    lines.append("")
    lines.append("Machine: %s, %s cores, %s; %s; build %s; Python %s, Node %s." % (
        m["cpu"], m["cores"], m["memory"], m["cxx_compiler"], m["build_type"], m["python"], m["node"]))
    noise = result["noise"]
    lines.append("")
    lines.append("**Noise.** Every cell is the median of %s repeats (C++: Google Benchmark repetitions; "
                 "drivers: the bench request's repeats). Spread max/min over the repeats of a cell: "
                 "median %.2fx, 90th percentile %.2fx, worst %.2fx (%s). Load average %s at the start, "
                 "%s at the end (%d cores). Reference cell `chain/1000` measured again at the end: "
                 "%s." % (
                     result["repeats"], noise["median_spread"], noise["p90_spread"], noise["worst_spread"],
                     noise["worst_cell"], "/".join("%.2f" % x for x in m["load_average_start"]),
                     "/".join("%.2f" % x for x in m["load_average_end"]), m["cores"] or 0,
                     noise.get("drift", "n/a")))
    if noise.get("noisiest_cells"):
        lines.append("")
        lines.append("Noisiest cells (max/min over the repeats): " + ", ".join(
            "%s %.2fx" % (c["cell"], c["spread"]) for c in noise["noisiest_cells"]) + ".")
    lines.append("")
    lines.append("## ns per step (median; ratio to the baseline of the same run)")
    lines.append("")
    lines.append("| workload | " + " | ".join(impls) + " |")
    lines.append("|---|" + "---:|" * len(impls))
    na_notes = {}

    def na_mark(reason):
        if reason not in na_notes:
            na_notes[reason] = len(na_notes) + 1
        return "n/a[^%d]" % na_notes[reason]

    for w in workloads:
        for n in ns:
            name = "%s/%d" % (w, n)
            row = result["workloads"].get(name, {})
            base = row.get("baseline")
            cells = []
            for impl in impls:
                v = row.get(impl)
                if v is None:
                    cells.append(na_mark(result["details"][name][impl]["na"]))
                elif impl == "baseline" or base is None:
                    cells.append(fmt_ns(v))
                else:
                    cells.append("%s (%s)" % (fmt_ns(v), fmt_ratio(v / base)))
            lines.append("| %s/%s | %s |" % (w, "{:,}".format(n), " | ".join(cells)))
    lines.append("")
    for c in charts:
        lines.append("![%s](%s)" % (c, c))
        lines.append("")

    lines.append("## Targets (from this run's numbers; not asserted anywhere)")
    lines.append("")
    lines.append("| target | status | figures |")
    lines.append("|---|---|---|")
    for t in result["targets"]:
        mark = {"met": "met", "not met": "**not met**", "n/a": "n/a"}[t["status"]]
        lines.append("| %s | %s | %s |" % (t["target"], mark, t["figures"] or ""))
    lines.append("")

    h = result.get("harness")
    if h:
        lines.append("## The suite's own speed (%s build, median of %s runs)" % (
            result["machine"]["build_type"] or "unknown", result["repeats"]))
        lines.append("")
        for key, what in (("in_process", "the whole spec against the reference, in process"),
                          ("driver", "the whole spec through the reference driver (out of process)")):
            d = h.get(key, {})
            lines.append("- %s: %s" % (what, "n/a: " + d["na"] if "na" in d else
                                       "%d cases, %.3f s from process start to exit, %.4f s to run "
                                       "(%s cases/s; runs %.4f to %.4f s)" % (
                                           d["cases"], d["wall_seconds"], d["run_seconds"],
                                           "{:,.0f}".format(d["cases_per_second"]), d["min_run_seconds"],
                                           d["max_run_seconds"])))
        d = h.get("properties", {})
        lines.append("- property tests against the reference, in process: %s" % (
            "n/a: " + d["na"] if "na" in d else "%s scenarios/s (%s to %s)" % (
                "{:,.0f}".format(d["scenarios_per_second"]), "{:,.0f}".format(d["min"]),
                "{:,.0f}".format(d["max"]))))
        lines.append("")
    cxx = [i["name"] for i in result["implementations_list"] if i["kind"] == "cxx"]
    lines.append("## Heap allocations per step (C++; allocations / bytes, counted by a replacement "
                 "global operator new, inside the timed region)")
    lines.append("")
    lines.append("| workload | " + " | ".join(cxx) + " |")
    lines.append("|---|" + "---:|" * len(cxx))
    for w in workloads:
        for n in ns:
            name = "%s/%d" % (w, n)
            cells = []
            for impl in cxx:
                d = result["details"][name][impl]
                cells.append("n/a" if "na" in d else "%.3g / %.0f B" % (d["allocs_per_step"],
                                                                         d["bytes_per_step"]))
            lines.append("| %s/%s | %s |" % (w, "{:,}".format(n), " | ".join(cells)))
    lines.append("")
    lines.append("Exception objects are allocated by the C++ runtime with malloc, not operator new: "
                 "they are not in these counts.")
    lines.append("")
    lines.append("## Steps per second (median)")
    lines.append("")
    lines.append("| workload | " + " | ".join(impls) + " |")
    lines.append("|---|" + "---:|" * len(impls))
    for w in workloads:
        for n in ns:
            name = "%s/%d" % (w, n)
            row = result["workloads"].get(name, {})
            lines.append("| %s/%s | %s |" % (w, "{:,}".format(n), " | ".join(
                fmt_rate(row.get(i)) for i in impls)))
    lines.append("")
    lines.append("## Implementations")
    lines.append("")
    for i in result["implementations_list"]:
        lines.append("- **%s** (%s): %s" % (i["name"], i.get("version") or "?", i["description"]))
    lines.append("")
    lines.append("## Workloads")
    lines.append("")
    for w in result["workload_list"]:
        lines.append("- `%s`: %s" % (w["name"], w["description"]))
    lines.append("")
    lines.append("## n/a")
    lines.append("")
    for reason, k in na_notes.items():
        lines.append("[^%d]: %s" % (k, reason))
    lines.append("")
    return "\n".join(lines)


SUMMARY_ROWS = ["chain/10", "chain/1000", "chain/1000000", "chain-typed/1000", "fired-chain/1000",
                "errback-return/1000", "errback-throw/1000", "recover/1000", "skip/1000",
                "nested-ready/1000", "nested-later/1000", "list/1000", "gather/1000", "cancel/1000",
                "await/1000", "new/1000"]


def summary(result, impls):
    """The condensed table of the README: a few rows, ns per step and the ratio to the baseline."""
    lines = ["| workload | " + " | ".join(impls) + " |", "|---|" + "---:|" * len(impls)]
    for name in SUMMARY_ROWS:
        row = result["workloads"].get(name)
        if row is None:
            continue
        base = row.get("baseline")
        cells = []
        for impl in impls:
            v = row.get(impl)
            if v is None:
                cells.append("n/a")
            elif impl == "baseline" or base is None:
                cells.append(fmt_ns(v))
            else:
                cells.append("%s (%s)" % (fmt_ns(v), fmt_ratio(v / base)))
        w, n = name.split("/")
        lines.append("| %s/%s | %s |" % (w, "{:,}".format(int(n)), " | ".join(cells)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, shorter timing, capped slow drivers")
    ap.add_argument("--smoke", action="store_true", help="tiny n, one repeat: checks that everything runs")
    ap.add_argument("--json", help="where to write the JSON results (default: OUTPUT/results.json)")
    ap.add_argument("--output", default=os.path.join(HERE, "results"), help="report folder")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--impl", help="comma-separated implementations (default: all)")
    ap.add_argument("--workload", help="comma-separated workloads (default: all)")
    ap.add_argument("--n", help="comma-separated n (default: workloads.json)")
    ap.add_argument("--no-harness", action="store_true",
                    help="skip the suite's own speed (the spec run and the property tests)")
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    with open(os.path.join(HERE, "workloads.json")) as f:
        spec = json.load(f)
    conf = dict(spec["quick"] if args.quick else spec["full"])
    conf["quick"] = args.quick
    ns = spec["n"]
    timeout = 60 if args.quick else 900
    if args.smoke:
        conf = {"repeat": 1, "min_time": 0.0001, "driver_repeat": 1, "quick": True}
        ns = [10, 100]
        timeout = 60
    if args.n:
        ns = [int(x) for x in args.n.split(",")]
    workload_list = spec["workloads"]
    if args.workload:
        keep = args.workload.split(",")
        workload_list = [w for w in workload_list if w["name"] in keep]
    workloads = [w["name"] for w in workload_list]
    impl_list = spec["implementations"]
    if args.impl:
        keep = args.impl.split(",")
        impl_list = [i for i in impl_list if i["name"] in keep]
    impls = [i["name"] for i in impl_list]

    os.makedirs(args.output, exist_ok=True)
    machine = machine_info(args.build_dir)
    started = time.monotonic()
    all_cells, versions, gbench = {}, {}, {}
    for impl in impl_list:
        t0 = time.monotonic()
        if impl["kind"] == "cxx":
            cells, version, merged = run_cxx(impl, args.build_dir, workload_list, ns, conf, args.output,
                                             timeout)
            if merged is not None:
                gbench[impl["name"]] = merged
        else:
            cells, version = run_driver(impl, workload_list, ns, conf, timeout)
        all_cells[impl["name"]] = cells
        versions[impl["name"]] = version
        log("%s done in %.1f s" % (impl["name"], time.monotonic() - t0))

    # drift: the reference's chain/1000 once more, at the end
    drift = None
    ref = next((i for i in impl_list if i["name"] == "reference"), None)
    first = all_cells.get("reference", {}).get("chain/1000", {})
    if ref is not None and "ns_per_step" in first and not args.smoke:
        again, _, _ = run_cxx(ref, args.build_dir, [{"name": "chain"}], [1000], conf, args.output, timeout)
        a = again.get("chain/1000", {}).get("ns_per_step")
        if a:
            drift = "%s at the start, %s at the end (%.2fx)" % (
                fmt_ns(first["ns_per_step"]), fmt_ns(a), a / first["ns_per_step"])
    harness = None
    if not args.smoke and not args.no_harness:
        t0 = time.monotonic()
        harness = run_harness(args.build_dir, conf["repeat"], timeout)
        log("suite speed done in %.1f s" % (time.monotonic() - t0))
    machine["load_average_end"] = list(os.getloadavg())
    machine["seconds"] = round(time.monotonic() - started, 1)

    table, details = {}, {}
    spreads = []
    for w in workloads:
        for n in ns:
            name = "%s/%d" % (w, n)
            table[name], details[name] = {}, {}
            for impl in impls:
                c = all_cells[impl].get(name, {"na": "not run"})
                details[name][impl] = c
                table[name][impl] = c.get("ns_per_step")
                if "ns_per_step" in c and c["min"] > 0 and len(c["samples"]) > 1:
                    spreads.append((c["max"] / c["min"], "%s %s" % (impl, name)))
    spreads.sort()
    noisiest = [{"cell": c, "spread": round(r, 2)} for r, c in reversed(spreads[-10:])]
    noise = {"noisiest_cells": noisiest,"median_spread": statistics.median([s for s, _ in spreads]) if spreads else 1.0,
             "p90_spread": spreads[int(0.9 * (len(spreads) - 1))][0] if spreads else 1.0,
             "worst_spread": spreads[-1][0] if spreads else 1.0,
             "worst_cell": spreads[-1][1] if spreads else "n/a",
             "drift": drift}

    command = args.command or " ".join(["bench/bench.py"] + [shlex.quote(a) for a in sys.argv[1:]])
    result = {
        "workloads": table,
        "machine": machine,
        "command": command,
        "quick": args.quick,
        "smoke": args.smoke,
        "repeats": conf["repeat"] if conf["repeat"] == conf["driver_repeat"] else "%s/%s" % (
            conf["repeat"], conf["driver_repeat"]),
        "n": ns,
        "unit": "ns per step (median of the repeats); null: n/a (details.IMPL.na says why)",
        "noise": noise,
        "details": details,
        "implementations_list": [dict(i, version=versions.get(i["name"])) for i in impl_list],
        "workload_list": workload_list,
    }
    result["targets"] = evaluate_targets(table, details, ns)
    if harness is not None:
        result["harness"] = harness
        result["targets"] += harness_targets(harness)
    charts = write_chart(args.output, table, impls, workloads, ns)
    result["charts"] = charts
    for name, merged in gbench.items():
        with open(os.path.join(args.output, "gbench-%s.json" % name), "w") as f:
            json.dump(merged, f, indent=1)
    json_path = args.json or os.path.join(args.output, "results.json")
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.output, "report.md"), "w") as f:
        f.write(markdown(result, impls, workloads, ns, charts))
    with open(os.path.join(args.output, "summary.md"), "w") as f:
        f.write(summary(result, impls))
    log("wrote %s, %s/report.md%s in %.0f s" % (json_path, args.output,
                                                 "".join(", " + c for c in charts),
                                                 time.monotonic() - started))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fuzzing throughput of one libFuzzer target against the empty-target floor (docs/performance.md).

Runs the fuzz target for a fixed number of executions from the binary seeds (a scratch copy, since
libFuzzer writes new inputs into its corpus directory), then fuzz_empty (a target that only reads
its input, built with the same flags) the same way, both pinned to one core, and prints:

  - executions per second of each, by CPU time (user + system of the process, what the machine
    load does not change) and by wall time, and the ratio target / floor from this one run, twice
    for the target: over its first RUNS executions from the seeds ("start": the corpus grows fast,
    libFuzzer's entropic schedule has not learnt which features are common, ASan's quarantine is
    still filling with fresh pages), and in steady state, executions WARMUP..WARMUP+STEADY_RUNS
    (the difference of two runs of WARMUP and WARMUP+STEADY_RUNS executions), where a fuzzing
    campaign spends all but its first seconds;
  - system calls per execution in steady state: `strace -c` over runs WARMUP..WARMUP+RUNS, taken
    as the difference of two traced runs of WARMUP and WARMUP+RUNS executions (libFuzzer with a
    fixed -seed repeats the same inputs), so process start-up and warm-up are not counted.

Startup (sanitizer initialisation, loading the seeds) is measured with -runs=0 and subtracted.
Standard library only. Usage:
  python3 bench/fuzzbench.py --build build/asan
  python3 bench/fuzzbench.py --build build/asan --target fuzz_echo-b2 --runs 20000 --cpu 1
  python3 bench/fuzzbench.py --build build/asan --no-strace --reps 5
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

WATCHED = ("mmap", "munmap", "madvise", "sigaltstack", "mprotect", "brk")


def run_fuzzer(binary, seeds, runs, cpu, seed, extra=(), strace_out=None):
    """One libFuzzer process; returns (cpu seconds, wall seconds, output)."""
    with tempfile.TemporaryDirectory(prefix="nmrh-fuzzbench-") as scratch:
        corpus = os.path.join(scratch, "corpus")
        shutil.copytree(seeds, corpus, ignore=shutil.ignore_patterns(".*"))
        cmd = [binary, f"-runs={runs}", f"-seed={seed}", "-print_final_stats=1", *extra, corpus]
        if strace_out:
            cmd[1:1] = ["-detect_leaks=0"]
            cmd = ["strace", "-f", "-c", "-o", strace_out, *cmd]
        if cpu is not None and shutil.which("taskset"):
            cmd = ["taskset", "-c", str(cpu), *cmd]
        env = dict(os.environ, NMRH_FINDINGS_DIR=os.path.join(scratch, "findings"))
        if strace_out:  # LeakSanitizer cannot run under ptrace; it is not per execution anyway
            env["ASAN_OPTIONS"] = ":".join(filter(None, (env.get("ASAN_OPTIONS"), "detect_leaks=0")))
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=scratch)
        out, _ = proc.communicate()
        wall = time.monotonic() - start
        # ru_* of the waited-for children, accumulated: take the difference around this run.
        return wall, out.decode(errors="replace"), proc.returncode


def child_cpu():
    r = os.times()
    return r.children_user + r.children_system


def measure(binary, seeds, runs, cpu, seed, extra, base=0):
    """CPU and wall seconds of executions base..base+runs: a run of base+runs executions minus a run
    of base (base 0: -runs=0, process start-up and loading the seeds)."""
    def timed(n):
        c0 = child_cpu()
        wall, out, rc = run_fuzzer(binary, seeds, n, cpu, seed, extra)
        if rc != 0:
            sys.exit(f"{binary} -runs={n} exited with {rc}:\n{out[-3000:]}")
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        return child_cpu() - c0, wall, int(m.group(1)) if m else n
    c0, w0, n0 = timed(base)
    c1, w1, n1 = timed(base + runs)
    execs = max(n1 - n0, 1)
    return {"execs": execs, "cpu": max(c1 - c0, 1e-9), "wall": max(w1 - w0, 1e-9)}


def parse_strace(path):
    calls = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            cols = line.split()
            if len(cols) >= 5 and cols[-1] not in ("syscall", "total") and cols[0][0].isdigit():
                try:
                    calls[cols[-1]] = int(cols[3])
                except ValueError:
                    pass
    return calls


def syscalls_per_exec(binary, seeds, warmup, runs, cpu, seed, extra):
    counts = []
    with tempfile.TemporaryDirectory(prefix="nmrh-fuzzbench-strace-") as d:
        for n in (warmup, warmup + runs):
            path = os.path.join(d, f"strace-{n}.txt")
            _, out, rc = run_fuzzer(binary, seeds, n, cpu, seed, extra, strace_out=path)
            if rc != 0:
                sys.exit(f"strace {binary} -runs={n} exited with {rc}:\n{out[-3000:]}")
            counts.append(parse_strace(path))
    names = set(counts[0]) | set(counts[1])
    return {k: counts[1].get(k, 0) - counts[0].get(k, 0) for k in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build/asan", help="build tree of the asan preset (default build/asan)")
    ap.add_argument("--target", default="fuzz_echo", help="fuzz target executable in BUILD/fuzz (default fuzz_echo)")
    ap.add_argument("--seeds", help="seed directory (default BUILD/fuzz/seeds)")
    ap.add_argument("--runs", type=int, default=10000, help="executions measured (default 10000)")
    ap.add_argument("--floor-runs", type=int, default=1000000,
                    help="executions of the empty target (default 1000000: it needs many to be measurable)")
    ap.add_argument("--warmup", type=int, default=30000,
                    help="executions before the steady state is timed and the system calls are counted "
                    "(default 30000)")
    ap.add_argument("--steady-runs", type=int, default=100000,
                    help="executions timed in steady state, after WARMUP (default 100000; 0 = skip)")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions, the median is printed (default 3)")
    ap.add_argument("--cpu", default="1", help="core to pin to with taskset ('' = no pinning; default 1)")
    ap.add_argument("--seed", type=int, default=1, help="libFuzzer -seed (default 1)")
    ap.add_argument("--no-strace", action="store_true", help="skip the system call count")
    ap.add_argument("extra", nargs="*", help="more libFuzzer flags, after --")
    a = ap.parse_args()

    fuzz_dir = os.path.join(os.path.abspath(a.build), "fuzz")
    target = os.path.join(fuzz_dir, a.target)
    floor = os.path.join(os.path.abspath(a.build), "bench", "fuzz_empty")
    seeds = os.path.abspath(a.seeds or os.path.join(fuzz_dir, "seeds"))
    for path, what in ((target, "fuzz target"), (floor, "empty target (build target fuzz_empty)"), (seeds, "seeds")):
        if not os.path.exists(path):
            sys.exit(f"fuzzbench: {what} not found: {path}")
    cpu = a.cpu if a.cpu != "" else None
    nseeds = len([f for f in os.listdir(seeds) if not f.startswith(".")])
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    print(f"{a.target} vs fuzz_empty, from {nseeds} seeds, -seed={a.seed}, "
          f"core {cpu if cpu is not None else 'any'}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2]

    start_label = f"{a.target} start"
    steady_label = f"{a.target} steady"
    runs_of = [(start_label, target, a.runs, 0), ("fuzz_empty", floor, a.floor_runs, 0)]
    if a.steady_runs > 0:
        runs_of.insert(1, (steady_label, target, a.steady_runs, a.warmup))
    results = {}
    for rep in range(a.reps):  # interleaved, so all see the same load
        for name, binary, runs, base in runs_of:
            results.setdefault(name, []).append(measure(binary, seeds, runs, cpu, a.seed, a.extra, base))
    summary = {}
    for name, _, runs, base in runs_of:
        rs = results[name]
        cpu_rate = median([r["execs"] / r["cpu"] for r in rs])
        wall_rate = median([r["execs"] / r["wall"] for r in rs])
        summary[name] = (cpu_rate, wall_rate)
        span = f"executions {base}..{base + runs}"
        print(f"  {name:<22} {cpu_rate:>12,.0f} exec/s (CPU time)  {wall_rate:>12,.0f} exec/s (wall)"
              f"  [{span}; {a.reps} reps, median]")
    f_cpu, f_wall = summary["fuzz_empty"]
    for name in (start_label, steady_label):
        if name in summary:
            t_cpu, t_wall = summary[name]
            print(f"  ratio, {name.split()[-1]:<6}: {a.target} takes {f_cpu / t_cpu:,.1f}x the floor's CPU time "
                  f"per execution ({f_wall / t_wall:,.1f}x wall)")

    if a.no_strace:
        return
    if not shutil.which("strace"):
        print("  system calls: strace not installed, skipped")
        return
    diff = syscalls_per_exec(target, seeds, a.warmup, a.runs, cpu, a.seed, a.extra)
    total = sum(v for v in diff.values() if v > 0)
    print(f"  system calls over executions {a.warmup}..{a.warmup + a.runs} (strace -c, difference of two runs):")
    print(f"    all: {total} ({total / a.runs:.3f} per execution)")
    for k in WATCHED:
        v = diff.get(k, 0)
        print(f"    {k:<12} {v:>8} ({v / a.runs:.4f} per execution)")
    top = sorted(((v, k) for k, v in diff.items() if v > 0 and k not in WATCHED), reverse=True)[:6]
    if top:
        print("    others: " + ", ".join(f"{k} {v}" for v, k in top) + "  (libFuzzer writing new inputs and stats)")


if __name__ == "__main__":
    main()

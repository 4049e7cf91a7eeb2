#!/usr/bin/env python3
"""The seeded-bug benchmark (docs/benchmarks.md).

For every seeded bug of bench/bugs.tsv (read at run time) and every fuzzing configuration, runs
N independent trials with a time budget, one core each, two trials at a time on a 2-core machine,
and records whether and when the bug's expected signature was first reported. A trial ends at its
first finding (the fuzz targets abort on a finding). Then it minimises one reproducer per bug and
writes:

  OUT/results.json   every trial, the per bug x configuration summary, machine and commit
  OUT/trials.csv     one line a trial
  OUT/report.md      the tables and the verdict against the benchmark's targets
  OUT/survival.svg   fraction of bugs still undetected over time, per configuration

Configurations:
  full    fuzz_<t> -dict=<t>.dict <scratch corpus> <seeds>: structure-aware mutator, dictionary,
          seed corpus, schedule taken from the input
  naive   fuzz_<t>_naive <empty scratch corpus>: libFuzzer's byte-level mutation only
  random  random_<t>: random byte strings (random sequences and schedules), no coverage feedback
  noseeds (not run by default; an ablation) the full harness without the seed corpus: mutator and
          dictionary from an empty corpus

Standard library only. Usage:
  python3 bench/bugbench.py --build build/asan --out bench-results
  python3 bench/bugbench.py --build build/asan --quick --out bench-results/quick
  python3 bench/bugbench.py --report-only --out bench-results     (tables and plot again)
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
CONFIGS = ("full", "naive", "random", "noseeds")
DEFAULT_CONFIGS = ("full", "naive", "random")
CONFIG_LABEL = {
    "full": "full harness",
    "naive": "naive libFuzzer",
    "random": "random",
    "noseeds": "full, no seeds",
}
QUICK_BUGS = ("B2", "B11", "B8")
MAX_LEN = 512


# ---------------------------------------------------------------------------------------------
# Bugs and binaries

def read_bugs(path):
    """bench/bugs.tsv: target, class, comma-separated accepted signatures; '#' comments."""
    bugs = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 3:
                sys.exit(f"{path}:{lineno}: expected target<TAB>class<TAB>signatures")
            sigs = [s.strip() for s in cols[2].split(",") if s.strip()]
            bugs.append({"target": cols[0].strip(), "class": cols[1].strip(), "signatures": sigs})
    return bugs


def select_bugs(bugs, names):
    """names: targets (echo-b2) or classes (B2); every bug of a named class is taken."""
    if not names:
        return bugs
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    out = [b for b in bugs if b["target"] in wanted or b["class"] in wanted]
    unknown = [n for n in wanted if not any(n in (b["target"], b["class"]) for b in bugs)]
    if unknown:
        print(f"bugbench: not in bugs.tsv: {', '.join(unknown)}", file=sys.stderr)
    return out


def binaries(build, target):
    fz = os.path.join(build, "fuzz")
    return {
        "full": os.path.join(fz, f"fuzz_{target}"),
        "naive": os.path.join(fz, f"fuzz_{target}_naive"),
        "random": os.path.join(fz, f"random_{target}"),
        "noseeds": os.path.join(fz, f"fuzz_{target}"),
        "dict": os.path.join(fz, f"{target}.dict"),
        "seeds": os.path.join(fz, "seeds"),
    }


def is_exe(p):
    return os.path.isfile(p) and os.access(p, os.X_OK)


# ---------------------------------------------------------------------------------------------
# One trial

def read_findings(findings_dir):
    """Signature directories written by the fuzz target: [(signature, smallest .bin, when the first
    input was saved, in ns of the epoch, the bug it belongs to ("# bug:", else the signature))]."""
    out = []
    if not os.path.isdir(findings_dir):
        return out
    for d in sorted(os.listdir(findings_dir)):
        sigdir = os.path.join(findings_dir, d)
        if not os.path.isdir(sigdir):
            continue
        sig, best, group = d, None, None
        bins = sorted((os.path.getsize(os.path.join(sigdir, f)), f) for f in os.listdir(sigdir) if f.endswith(".bin"))
        saved = min((os.stat(os.path.join(sigdir, f)).st_mtime_ns for _, f in bins), default=None)
        if bins:
            best = os.path.join(sigdir, bins[0][1])
            text = best[:-4] + ".nmrseq"
            try:
                with open(text, encoding="utf-8", errors="replace") as t:
                    for line in t:
                        if not line.startswith("#"):
                            break
                        if line.startswith("# signature: "):
                            sig = line[len("# signature: "):].strip()
                        if line.startswith("# bug: "):
                            group = line[len("# bug: "):].strip()
            except OSError:
                pass
        out.append((sig, best, saved, group or sig))
    return out


def parse_log(path):
    """Executions, whether libFuzzer finished loading its corpus, and a libFuzzer error line."""
    execs, inited, error = None, False, None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"stat::number_of_executed_units: (\d+)", line)
                if m:
                    execs = int(m.group(1))
                m = re.match(r"random_driver: (\d+) executions", line)
                if m:
                    execs = int(m.group(1))
                if "INITED" in line:
                    inited = True
                if error is None and re.search(r"ERROR: libFuzzer: |ERROR: LeakSanitizer|ERROR: AddressSanitizer", line):
                    error = line.strip()[:200]
    except OSError:
        pass
    return execs, inited, error


def run_trial(job, args, core):
    bug, config, trial = job["bug"], job["config"], job["trial"]
    tdir = os.path.join(args.out, "trials", bug["target"], config, str(trial))
    shutil.rmtree(tdir, ignore_errors=True)
    corpus, findings = os.path.join(tdir, "corpus"), os.path.join(tdir, "findings")
    os.makedirs(corpus)
    os.makedirs(findings)
    b = binaries(args.build, bug["target"])
    seed = args.seed_base + trial
    common = [f"-seed={seed}", f"-max_total_time={args.budget}", f"-max_len={MAX_LEN}", "-print_final_stats=1",
              f"-artifact_prefix={tdir}/"]
    if config == "full":
        cmd = [b["full"]] + common + args.full_flag + [f"-dict={b['dict']}", corpus, b["seeds"]]
    elif config == "noseeds":
        cmd = [b["full"]] + common + args.full_flag + [f"-dict={b['dict']}", corpus]
    elif config == "naive":
        cmd = [b["naive"]] + common + [corpus]
    else:
        cmd = [b["random"], "--seed", str(seed), "--time", str(args.budget), "--max-len", str(MAX_LEN)]
    if core is not None:
        cmd = ["taskset", "-c", str(core)] + cmd
    env = dict(os.environ, NMRH_FINDINGS_DIR=findings)
    log_path = os.path.join(tdir, "log.txt")
    killed = False
    with open(log_path, "wb") as log:
        start_ns = time.time_ns()
        start = time.monotonic()
        p = subprocess.Popen(cmd, cwd=tdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        try:
            rc = p.wait(timeout=args.budget + args.grace)
        except subprocess.TimeoutExpired:
            killed = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = p.wait()
        elapsed = time.monotonic() - start
    found = read_findings(findings)
    execs, inited, error = parse_log(log_path)
    accepted = sorted(((s, f, t) for s, f, t, _ in found if s in bug["signatures"]), key=lambda a: a[2] or 0)
    # Other findings count as bugs, not signatures: a signature whose bug (group) also has an
    # accepted signature is the seeded bug seen from another place.
    seeded_groups = {g for s, _, _, g in found if s in bug["signatures"]}
    others = sorted({g for s, _, _, g in found if s not in bug["signatures"] and g not in seeded_groups})
    # Detection time: when the finding was reported (its input saved to disk by the finding hook),
    # not when the process exited after it (libFuzzer's crash handler symbolises a stack trace
    # first, about 0.1 s, the same in every configuration).
    reported = elapsed
    if accepted and accepted[0][2] is not None:
        reported = min(max((accepted[0][2] - start_ns) / 1e9, 0.0), elapsed)
    if accepted:
        outcome = "detected"
    elif others:
        outcome = "other-finding"
    elif killed:
        outcome = "killed"
    elif rc != 0:
        outcome = "error"
    else:
        outcome = "none"
    if not args.keep_corpus:
        shutil.rmtree(corpus, ignore_errors=True)
    return {
        "target": bug["target"], "class": bug["class"], "config": config, "trial": trial, "seed": seed,
        "budget": args.budget, "outcome": outcome, "detected": bool(accepted),
        "time": round(reported, 3), "exit_time": round(elapsed, 3),
        "signature": accepted[0][0] if accepted else None,
        "input": os.path.relpath(accepted[0][1], args.out) if accepted and accepted[0][1] else None,
        "other_signatures": others,  # other bugs (groups), named by group
        "exit": rc, "executions": execs,
        # libFuzzer configurations: a detection before INITED came from the seed corpus itself.
        "from_seed_corpus": bool(accepted) and config == "full" and not inited,
        "error": error if outcome in ("error", "killed") else None,
        "command": " ".join(cmd),
    }


def run_all(jobs, args):
    """Runs the jobs, args.jobs at a time, each pinned to its own core when there are enough."""
    ncpu = os.cpu_count() or 1
    pin = shutil.which("taskset") is not None and args.jobs <= ncpu
    pending = queue.Queue()
    for j in jobs:
        pending.put(j)
    results, lock = [], threading.Lock()
    log = open(os.path.join(args.out, "trials.jsonl"), "w", encoding="utf-8")

    def worker(core):
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                return
            r = run_trial(job, args, core if pin else None)
            with lock:
                results.append(r)
                log.write(json.dumps(r) + "\n")
                log.flush()
                what = {"detected": f"detected {r['signature']}", "other-finding":
                        f"OTHER finding {','.join(r['other_signatures'])}", "none": "not detected",
                        "killed": "killed at budget + grace", "error": f"error (exit {r['exit']}): {r['error']}"}
                execs = "" if r["executions"] is None else f", {r['executions']} execs"
                seedc = " (seed corpus)" if r["from_seed_corpus"] else ""
                print(f"[{len(results):3d}/{len(jobs)}] {r['target']:<10} {r['config']:<6} #{r['trial']}: "
                      f"{what[r['outcome']]} after {r['time']:.2f} s{execs}{seedc}", flush=True)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    return sorted(results, key=lambda r: (r["target"], CONFIGS.index(r["config"]), r["trial"]))


# ---------------------------------------------------------------------------------------------
# Seeds that trigger a bug by themselves, and minimised reproducers

def seed_hits(build, bug):
    """Seed corpus inputs that produce the bug's signature on their own (nmrh replay, one a process)."""
    nmrh = os.path.join(build, "tools", "nmrh")
    seeds = binaries(build, bug["target"])["seeds"]
    hits = []
    if not (is_exe(nmrh) and os.path.isdir(seeds)):
        return hits
    for name in sorted(os.listdir(seeds)):
        if not name.endswith(".bin"):
            continue
        p = subprocess.run([nmrh, "replay", "--target", bug["target"], os.path.join(seeds, name)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        for m in re.finditer(r"^FINDING (\S+):", out, re.M):
            if m.group(1) in bug["signatures"]:
                hits.append(name[:-4])
                break
    return hits


def minimize(build, out, target, input_rel, seconds):
    nmrh = os.path.join(build, "tools", "nmrh")
    dst_dir = os.path.join(out, "reproducers")
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, f"{target}.nmrseq")
    p = subprocess.run([nmrh, "minimize", "--target", target, "--time-limit", str(seconds),
                        os.path.join(out, input_rel), "-o", dst],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 120)
    text = p.stdout.decode("utf-8", "replace")
    m = re.search(r": (\d+) -> (\d+) records", text)
    if p.returncode != 0 or not m:
        return {"records": None, "before": None, "file": None, "note": text.strip()[-300:]}
    return {"records": int(m.group(2)), "before": int(m.group(1)), "file": os.path.relpath(dst, out),
            "timed_out": "time limit reached" in text}


# ---------------------------------------------------------------------------------------------
# Statistics

def quantile(sorted_vals, q):
    """Linear interpolation between order statistics (type 7); inf stands for 'not detected'."""
    n = len(sorted_vals)
    if n == 0:
        return None
    h = (n - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    a, b = sorted_vals[lo], sorted_vals[hi]
    if math.isinf(a) or math.isinf(b):
        return math.inf if hi != lo or math.isinf(a) else a
    return a + (b - a) * (h - lo)


def mann_whitney(x, y):
    """Two-sided Mann-Whitney U, normal approximation with tie and continuity correction.
    Returns (U of x, p). U of x counts the pairs where x is larger (ties count one half): for
    times, U of the full harness is 0 when it was faster in every pair, n1*n2 when slower."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return None, None
    allv = sorted([(v, 0) for v in x] + [(v, 1) for v in y], key=lambda t: t[0])
    ranks = [0.0] * len(allv)
    ties = []
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1][0] == allv[i][0]:
            j += 1
        r = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = r
        ties.append(j - i + 1)
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, allv) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    mu = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - sum(t ** 3 - t for t in ties) / (n * (n - 1)))
    if var <= 0:
        return u1, 1.0
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    z = max(z, 0.0)
    p = math.erfc(z / math.sqrt(2))
    return u1, min(1.0, p)


def a12(x, y):
    """Vargha-Delaney A12 = P(X < Y) + P(X = Y)/2 for times: the probability that configuration X
    detects sooner than Y (1.0: always sooner, 0.5: no difference)."""
    if not x or not y:
        return None
    s = 0.0
    for a in x:
        for b in y:
            s += 1.0 if a < b else 0.5 if a == b else 0.0
    return s / (len(x) * len(y))


def summarise(results, budget):
    cells = {}
    for r in results:
        cells.setdefault((r["target"], r["config"]), []).append(r)
    summary = {}
    for (target, config), rs in cells.items():
        times = sorted(r["time"] if r["detected"] else math.inf for r in rs)
        # Execution rate from trials long enough for start-up not to dominate.
        execs = [r["executions"] / r["time"] for r in rs if r["executions"] and r["time"] >= 5]
        # Executions to detection (undetected: infinite); unknown when a detecting trial did not
        # report its count.
        to_detect = [r["executions"] if r["detected"] else math.inf for r in rs]
        summary[f"{target}/{config}"] = {
            "target": target, "class": rs[0]["class"], "config": config, "trials": len(rs),
            "detections": sum(r["detected"] for r in rs),
            "seed_corpus_detections": sum(r["from_seed_corpus"] for r in rs),
            "q1": quantile(times, 0.25), "median": quantile(times, 0.5), "q3": quantile(times, 0.75),
            "times": [r["time"] if r["detected"] else None for r in sorted(rs, key=lambda r: r["trial"])],
            "other_findings": sorted({s for r in rs for s in r["other_signatures"]}),
            "errors": [f"#{r['trial']}: {r['outcome']} {r['error'] or ''}".strip() for r in rs
                       if r["outcome"] in ("error", "killed")],
            "exec_per_s_median": quantile(sorted(execs), 0.5) if execs else None,
            "execs_to_detection_median": None if None in to_detect else quantile(sorted(to_detect), 0.5),
        }
    # Mann-Whitney U and A12 against the full harness. Both depend only on the order of the times,
    # so an undetected trial (censored at the budget) ranks after every detection and ties with the
    # other undetected ones: it counts as time = budget, also against a detection that came a few
    # hundred milliseconds past the budget while the fuzzer was stopping.
    for key, s in summary.items():
        full = summary.get(f"{s['target']}/full")
        if s["config"] == "full" or not full:
            continue
        fx = [t if t is not None else math.inf for t in full["times"]]
        ox = [t if t is not None else math.inf for t in s["times"]]
        u, p = mann_whitney(fx, ox)
        s["U"], s["p"], s["A12"] = u, p, a12(fx, ox)
    return summary


# ---------------------------------------------------------------------------------------------
# Report

def fmt_t(v, budget):
    if v is None:
        return "–"
    if math.isinf(v):
        return f"> {budget:g}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def table(data):
    s = data["summary"]
    budget = data["budget"]
    lines = ["| bug | class | config | detected | median s | Q1–Q3 s | U | p | A12 | median execs | exec/s | repro records |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for bug in data["bugs"]:
        for config in data["configs"]:
            c = s.get(f"{bug['target']}/{config}")
            if not c:
                continue
            det = f"{c['detections']}/{c['trials']}"
            if c["seed_corpus_detections"]:
                det += f" ({c['seed_corpus_detections']} seed)"
            if c["other_findings"]:
                det += f" ⚠ {len(c['other_findings'])} other bug(s): " + ", ".join(c["other_findings"])
            rep = ""
            if config == "full":
                m = data["reproducers"].get(bug["target"])
                if m and m.get("records") is not None:
                    rep = str(m["records"]) + (" (from " + m["config"] + ")" if m.get("config") != "full" else "")
                elif m:
                    rep = "failed"
            u = "" if c.get("U") is None else f"{c['U']:g}"
            p = "" if c.get("p") is None else f"{c['p']:.3f}"
            a = "" if c.get("A12") is None else f"{c['A12']:.2f}"
            eps = "" if c["exec_per_s_median"] is None else f"{c['exec_per_s_median']:.0f}"
            ex = c.get("execs_to_detection_median")
            ex = "n/a" if ex is None else "> budget" if math.isinf(ex) else f"{ex:.0f}"
            lines.append(f"| {bug['target']} | {bug['class']} | {config} | {det} | {fmt_t(c['median'], budget)} | "
                         f"{fmt_t(c['q1'], budget)}–{fmt_t(c['q3'], budget)} | {u} | {p} | {a} | {ex} | {eps} | {rep} |")
    return "\n".join(lines)


def verdict(data):
    s, budget, out = data["summary"], data["budget"], []
    full_all, fast, ratios, censored = [], [], [], []
    for bug in data["bugs"]:
        t = bug["target"]
        f = s.get(f"{t}/full")
        if not f:
            continue
        full_all.append((t, f["detections"] == f["trials"]))
        fast.append((t, f["median"] is not None and not math.isinf(f["median"]) and f["median"] < 10))
        n = s.get(f"{t}/naive")
        if n and f["median"] is not None and not math.isinf(f["median"]) and not math.isinf(n["median"]):
            ratios.append((t, n["median"] / max(f["median"], 1e-9), f["median"], n["median"]))
        elif n and f["median"] is not None and not math.isinf(f["median"]):
            censored.append(f"{t} (naive {n['detections']}/{n['trials']}: at least {budget / f['median']:.0f}x)")
    bad = [t for t, ok in full_all if not ok]
    # Counted in bugs: a seeded bug is detected when any of its accepted signatures is reported,
    # however many other signatures of the same bug come with it.
    found_bugs = [t for t in (b["target"] for b in data["bugs"]) if s.get(f"{t}/full") and s[f"{t}/full"]["detections"]]
    out.append(f"- Seeded bugs detected by the full harness (in at least one trial): {len(found_bugs)} of {len(full_all)}")
    out.append(f"- Full harness detects every bug in every trial within {budget:g} s: "
               + ("**met**" if not bad and full_all else f"**not met** ({', '.join(bad)})"))
    slow = [t for t, ok in fast if not ok]
    out.append("- Full harness median time to detection under 10 s for each bug: "
               + ("**met**" if not slow and fast else f"**not met** ({', '.join(slow)})"))
    if ratios:
        under = [f"{t} ({r:.1f}x)" for t, r, _, _ in ratios if r < 10]
        out.append(f"- At least 10x faster (median) than naive on the bugs both find ({len(ratios)}: "
                   + ", ".join(f"{t} {r:.0f}x" for t, r, _, _ in ratios) + "): "
                   + ("**met**" if not under else f"**not met** for {', '.join(under)}"))
    else:
        out.append("- At least 10x faster than naive on the bugs both find: no bug has a median for both "
                   "(naive finds none in at least half its trials)")
    if censored:
        out.append("- Bugs the naive baseline finds in fewer than half its trials (no median): " + ", ".join(censored))
    return "\n".join(out)


def write_report(data, out):
    budget = data["budget"]
    seeds = data.get("seed_hits", {})
    with_seed = [f"{t} ({', '.join(v)})" for t, v in seeds.items() if v]
    md = [f"# Bug benchmark results", "",
          f"- command: `{data['command']}`",
          f"- commit: {data['commit']}",
          f"- machine: {data['machine']}",
          f"- started: {data['started']}, wall time {data['wall_seconds'] / 60:.1f} min",
          f"- {data['trials']} trial{'s' if data['trials'] != 1 else ''} per bug and configuration, budget {budget:g} s, {data['jobs']} in parallel "
          f"(one core each), -max_len={MAX_LEN}; seeds {data['seed_base'] + 1}..{data['seed_base'] + data['trials']}"
          + (f"; full and noseeds also given {' '.join(data['full_flags'])}" if data.get("full_flags") else ""),
          ""]
    if data.get("skipped"):
        md += [f"Not run (binaries not built in {data['build']}): {', '.join(data['skipped'])}", ""]
    md += [table(data), "",
           "Times are wall-clock seconds from process start (including start-up and, for the full harness, "
           "loading the seed corpus) to the moment the finding was reported: its input saved to disk by the "
           "harness's finding hook (results.json also keeps each trial's exit time, about 0.1 s later: "
           "libFuzzer's crash handler symbolises a stack trace before it exits). Quartiles treat an undetected trial as "
           f"infinite (`> {budget:g}` where the quantile falls among them). U, p (two-sided, normal "
           "approximation with tie and continuity correction) and A12 compare each configuration with the full "
           f"harness, an undetected trial counting as {budget:g} s (censored); U is the full harness's (0: it was "
           "sooner in every pair) and A12 the probability that the full harness detects sooner (1.0 always, 0.5 no "
           "difference). 'median execs': executions up to the detection (n/a where a detecting trial did not "
           "report its count); 'exec/s': median rate over the trials that ran at least 5 s. 'seed': detected "
           "while libFuzzer was "
           "still running the seed corpus. 'repro records': the first detecting full-harness trial's input after "
           "`nmrh minimize`.", "",
           "Seed corpus inputs that trigger the bug on their own: " + ("; ".join(with_seed) if with_seed else "none"), "",
           "## Against the targets", "", verdict(data), "",
           "![survival](survival.svg)", ""]
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))


def survival_svg(data, path):
    """Fraction of bugs still undetected at time t (mean over bugs of the fraction of their trials
    not yet detected), per configuration, on a log time axis."""
    budget = data["budget"]
    W, H, L, R, T, B = 720, 420, 70, 170, 30, 55
    pw, ph = W - L - R, H - T - B
    tmin = 0.01
    lo, hi = math.log10(tmin), math.log10(budget)

    def x(t):
        t = min(max(t, tmin), budget)
        return L + (math.log10(t) - lo) / (hi - lo) * pw

    def y(f):
        return T + (1 - f) * ph

    colors = {"full": "#1b7837", "naive": "#d6604d", "random": "#4393c3", "noseeds": "#762a83"}
    dashes = {"full": "", "naive": "6,3", "random": "2,3", "noseeds": "9,3,2,3"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L + pw / 2}" y="18" text-anchor="middle" font-size="14">Seeded bugs still undetected '
           f'({len(data["bugs"])} bugs, {data["trials"]} trial{"s" if data["trials"] != 1 else ""} each)</text>']
    ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 60, 100, 300, 600, 1800, 3600) if tmin <= t <= budget]
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" y1="{T}" x2="{x(t):.1f}" y2="{T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x(t):.1f}" y="{T + ph + 16}" text-anchor="middle">{t:g}</text>')
    for f in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{L}" y1="{y(f):.1f}" x2="{L + pw}" y2="{y(f):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y(f) + 4:.1f}" text-anchor="end">{f:.2f}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 12}" text-anchor="middle">time (s, log scale)</text>')
    out.append(f'<text x="16" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {T + ph / 2})">'
               'fraction of bugs undetected</text>')
    legend_y = T + 10
    for config in data["configs"]:
        per_bug = []
        for bug in data["bugs"]:
            rs = [r for r in data["results"] if r["target"] == bug["target"] and r["config"] == config]
            if rs:
                per_bug.append([r["time"] if r["detected"] else math.inf for r in rs])
        if not per_bug:
            continue
        events = sorted({t for ts in per_bug for t in ts if not math.isinf(t)})

        def undetected(t):
            return sum(sum(1 for v in ts if v > t) / len(ts) for ts in per_bug) / len(per_bug)

        pts = [(tmin, undetected(0.0))]
        for t in events:  # a detection just past the budget (the fuzzer stopping) is drawn at it
            pts.append((t, pts[-1][1]))
            pts.append((t, undetected(t)))
        pts.append((budget, pts[-1][1]))
        d = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(f):.1f}" for i, (t, f) in enumerate(pts))
        dash = f' stroke-dasharray="{dashes[config]}"' if dashes[config] else ""
        out.append(f'<path d="{d}" fill="none" stroke="{colors[config]}" stroke-width="2"{dash}/>')
        out.append(f'<line x1="{L + pw + 12}" y1="{legend_y}" x2="{L + pw + 40}" y2="{legend_y}" '
                   f'stroke="{colors[config]}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{L + pw + 46}" y="{legend_y + 4}">{CONFIG_LABEL[config]}</text>')
        legend_y += 20
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model}, {os.cpu_count()} CPUs{mem}, Linux {platform.release()}"


def commit():
    try:
        head = subprocess.run(["git", "-C", SOURCE, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, check=True).stdout.decode().strip()
        dirty = subprocess.run(["git", "-C", SOURCE, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build", "asan"), help="build directory (asan preset)")
    ap.add_argument("--out", default="bench-results", help="output directory (default bench-results)")
    ap.add_argument("--trials", type=int, help="trials per bug and configuration (default 5; quick 1)")
    ap.add_argument("--budget", type=float, help="seconds per trial (default 60; quick 10)")
    ap.add_argument("--bugs", help="comma-separated targets or classes (default: all; quick: B2,B11,B8)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                    help="comma-separated, of full,naive,random,noseeds (default full,naive,random)")
    ap.add_argument("--jobs", type=int, default=2, help="trials run in parallel, one core each (default 2)")
    ap.add_argument("--full-flag", action="append", default=[], metavar="FLAG",
                    help="a libFuzzer flag added to the full and noseeds commands (repeatable; an ablation, "
                    "e.g. --full-flag=-entropic=1)")
    ap.add_argument("--bugs-file", default=os.path.join(HERE, "bugs.tsv"))
    ap.add_argument("--seed-base", type=int, default=0, help="trial i uses seed SEED_BASE+i (from 1)")
    ap.add_argument("--grace", type=float, default=60, help="seconds past the budget before a trial is killed")
    ap.add_argument("--minimize-time", type=int, help="time limit of each nmrh minimize (default 60; quick 20)")
    ap.add_argument("--keep-corpus", action="store_true", help="keep each trial's corpus directory")
    ap.add_argument("--quick", action="store_true", help="1 trial, 10 s budget, 3 bugs (CI)")
    ap.add_argument("--expect-detected", help="exit 1 unless the full harness detected these bugs (targets or "
                    "classes) in every trial and the report and plot were written")
    ap.add_argument("--report-only", action="store_true", help="rewrite report.md and survival.svg from results.json")
    args = ap.parse_args(argv)
    args.out = os.path.abspath(args.out)

    if args.report_only:
        with open(os.path.join(args.out, "results.json"), encoding="utf-8") as f:
            data = json.load(f)
        data["summary"] = summarise(data["results"], data["budget"])
        finish(data, args)
        return 0

    args.trials = args.trials or (1 if args.quick else 5)
    args.budget = args.budget or (10 if args.quick else 60)
    args.minimize_time = args.minimize_time or (20 if args.quick else 60)
    args.build = os.path.abspath(args.build)
    configs = [c for c in args.configs.split(",") if c]
    if any(c not in CONFIGS for c in configs):
        ap.error(f"--configs takes some of {','.join(CONFIGS)}")
    bugs = select_bugs(read_bugs(args.bugs_file), args.bugs or (",".join(QUICK_BUGS) if args.quick else None))
    skipped, runnable = [], []
    for bug in bugs:
        b = binaries(args.build, bug["target"])
        missing = [c for c in configs if not is_exe(b[c])]
        if ("full" in configs or "noseeds" in configs) and not os.path.isfile(b["dict"]):
            missing.append("dict")
        (skipped if missing else runnable).append(bug)
        if missing:
            print(f"bugbench: {bug['target']}: not built in {args.build} ({', '.join(missing)}); skipped",
                  file=sys.stderr)
    if not runnable:
        print("bugbench: nothing to run", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    jobs = [{"bug": bug, "config": c, "trial": i} for i in range(1, args.trials + 1) for bug in runnable
            for c in configs]
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    source_commit = commit()  # at the start: the tree may move while the trials run
    print(f"bugbench: {len(runnable)} bugs x {len(configs)} configurations x {args.trials} trials, "
          f"{args.budget:g} s each, {args.jobs} at a time: at most "
          f"{len(jobs) * args.budget / args.jobs / 60:.1f} min of fuzzing; output in {args.out}", flush=True)
    t0 = time.monotonic()
    results = run_all(jobs, args)

    print("bugbench: seed corpus check and minimisation", flush=True)
    hits = {bug["target"]: seed_hits(args.build, bug) for bug in runnable}
    reproducers = {}
    for bug in runnable:
        det = [r for r in results if r["target"] == bug["target"] and r["detected"] and r["input"]]
        det.sort(key=lambda r: (CONFIGS.index(r["config"]), r["trial"]))
        if not det:
            continue
        m = minimize(args.build, args.out, bug["target"], det[0]["input"], args.minimize_time)
        m["config"], m["trial"] = det[0]["config"], det[0]["trial"]
        reproducers[bug["target"]] = m
        print(f"  {bug['target']}: {m['records']} records (from {m['config']} #{m['trial']})", flush=True)

    data = {
        "command": "python3 bench/bugbench.py " + " ".join(argv),
        "commit": source_commit, "machine": machine(), "started": started,
        "wall_seconds": time.monotonic() - t0, "build": args.build,
        "trials": args.trials, "budget": args.budget, "jobs": args.jobs, "seed_base": args.seed_base,
        "full_flags": args.full_flag, "configs": configs, "bugs": runnable, "skipped": [b["target"] for b in skipped],
        "results": results, "seed_hits": hits, "reproducers": reproducers,
    }
    data["summary"] = summarise(results, args.budget)
    return finish(data, args)


def finish(data, args):
    out = args.out
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=lambda v: None)
    with open(os.path.join(out, "trials.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        cols = ["target", "class", "config", "trial", "seed", "budget", "outcome", "detected", "time", "signature",
                "other_signatures", "executions", "from_seed_corpus", "exit"]
        w.writerow(cols)
        for r in data["results"]:
            w.writerow([";".join(r[c]) if c == "other_signatures" else r[c] for c in cols])
    survival_svg(data, os.path.join(out, "survival.svg"))
    if shutil.which("rsvg-convert"):  # a PNG as well where librsvg's converter is installed
        subprocess.run(["rsvg-convert", os.path.join(out, "survival.svg"), "-o", os.path.join(out, "survival.png")],
                       check=False)
    write_report(data, out)
    print(f"bugbench: wrote {out}/report.md, results.json, trials.csv, survival.svg\n")
    print(table(data))
    print()
    print(verdict(data))
    if args.expect_detected:
        names = [n for n in args.expect_detected.split(",") if n]
        failed = []
        for n in names:
            cells = [s for s in data["summary"].values() if s["config"] == "full" and n in (s["target"], s["class"])]
            if not cells or any(c["detections"] != c["trials"] for c in cells):
                failed.append(n)
        for f_ in ("report.md", "results.json", "survival.svg"):
            if not os.path.isfile(os.path.join(out, f_)) or os.path.getsize(os.path.join(out, f_)) == 0:
                failed.append(f_)
        if failed:
            print(f"bugbench: FAILED: full harness did not detect, or missing output: {', '.join(failed)}")
            return 1
        print(f"bugbench: ok: full harness detected {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

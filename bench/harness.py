#!/usr/bin/env python3
"""bms2intune benchmark driver (run it through bench/run.sh). Python 3 standard library only.

For each size: generate (or reuse) a synthetic tenant under bench/out/data/<size>/, time
`bms2intune import` on the users CSV, the users XLSX and the whole tenant, then `readiness` and
`plan` on the imported tenant, and the baselines (pandas / polars, CSV and XLSX) doing the same read
and light normalisation. Every run goes through `/usr/bin/time -v` for wall time and peak RSS.
Prints a table and writes bench/out/results.md (and results.json).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
VENV = os.path.join(OUT, "venv")
PY_PACKAGES = ["pandas", "polars", "openpyxl", "fastexcel"]
BIN = os.path.join(ROOT, "target", "release", "bms2intune")
TIME = "/usr/bin/time"

# Targets from the issues (2-core machine), seconds / MB, checked at 1M users.
TARGETS = {
    ("users CSV", "bms2intune import"): (1.5, "< 1.5 s"),
    ("users XLSX", "bms2intune import"): (12.0, "< 12 s"),
    ("whole tenant", "bms2intune import"): (15.0, "< 15 s"),
    ("whole tenant", "bms2intune readiness"): (2.0, "< 2 s"),
    ("whole tenant", "bms2intune plan"): (3.0, "< 3 s"),
}
RSS_TARGET_MB = 1024


def parse_size(s):
    s = s.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def size_label(n):
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def generator_hash():
    """What the cached data depends on: bench/gen.py and the sample generator's format constants
    (headers, products, names) it borrows, not the rest of examples/generate_sample.py."""
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import generate_sample as S  # noqa: E402

    h = hashlib.sha256()
    with open(os.path.join(HERE, "gen.py"), "rb") as f:
        h.update(f.read())
    h.update(repr((S.USERS_HEADERS, S.GROUPS_HEADERS, S.MEMBERS_HEADERS, S.PRODUCTS_HEADERS,
                   S.DEVICES_HEADERS, S.PRODUCTS, S.RULE_SETTINGS, S.FIRST, S.LAST,
                   S.DEPARTMENTS, S.OFFICES, sorted(S.ASCII.items()))).encode())
    return h.hexdigest()[:16]


def ensure_data(n):
    d = os.path.join(OUT, "data", size_label(n))
    marker = os.path.join(d, ".generated")
    want = generator_hash()
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read().strip() == want:
                return d, None
    log(f"== generating the {size_label(n)}-user tenant in {d}")
    shutil.rmtree(d, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "--users", str(n), "--out", d],
                   check=True, stdout=sys.stderr)
    with open(marker, "w") as f:
        f.write(want + "\n")
    return d, time.perf_counter() - t


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    marker = os.path.join(VENV, ".bench-packages")
    if os.path.exists(marker) and os.path.exists(py):
        return py, None
    log(f"== installing {' '.join(PY_PACKAGES)} into {VENV}")
    try:
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
                       + PY_PACKAGES, check=True, stdout=sys.stderr)
    except (subprocess.CalledProcessError, OSError) as e:
        return None, f"venv/pip failed: {e}"
    versions = subprocess.run(
        [py, "-c", "import importlib.metadata as m; print(' '.join(p + '=' + m.version(p) for p in "
         + repr(PY_PACKAGES) + "))"], capture_output=True, text=True).stdout.strip()
    with open(marker, "w") as f:
        f.write(versions + "\n")
    return py, None


def baseline_versions():
    marker = os.path.join(VENV, ".bench-packages")
    try:
        with open(marker) as f:
            return f.read().strip()
    except OSError:
        return ""


def build():
    log("== cargo build --release")
    r = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    if r.returncode != 0 or not os.path.exists(BIN):
        return f"cargo build --release failed (exit {r.returncode})"
    return None


def timed(cmd, cwd=None):
    """Run cmd under /usr/bin/time -v; return dict(rc, wall, rss_mb, stdout, stderr)."""
    use_time = os.path.exists(TIME)
    full = ([TIME, "-v"] if use_time else []) + cmd
    t = time.perf_counter()
    r = subprocess.run(full, cwd=cwd, capture_output=True, text=True, errors="replace")
    wall = time.perf_counter() - t
    rss = None
    err = r.stderr
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        if m:
            rss = int(m.group(1)) / 1024
        cut = err.find("\tCommand being timed:")
        if cut >= 0:
            err = err[:cut]
        # Wall time: ours (perf_counter around the run, ~1 ms of `time` overhead) has more
        # digits than time -v's m:ss.ss.
    return dict(rc=r.returncode, wall=wall, rss_mb=rss, stdout=r.stdout, stderr=err)


def find_key(v, key):
    if isinstance(v, dict):
        if key in v:
            return v[key]
        for x in v.values():
            found = find_key(x, key)
            if found is not None:
                return found
    elif isinstance(v, list):
        for x in v:
            found = find_key(x, key)
            if found is not None:
                return found
    return None


def bms_status(res):
    """ok / 'not available' / 'failed' plus a short reason, from exit code and JSON output."""
    if res["rc"] == 0:
        return "ok", ""
    code, message = None, None
    try:
        doc = json.loads(res["stdout"])
        code = find_key(doc, "code")
        message = find_key(doc, "message")
    except (ValueError, TypeError):
        pass
    text = (res["stdout"] + res["stderr"]).strip().splitlines()
    first = message or (text[0] if text else "")
    if code in ("command.not_available", "protocol.params.unknown") or "not available" in first:
        return "not available", f"{code or ''}: {first}"[:160]
    if res["rc"] == 3:  # blockers found: the run itself completed
        return "ok", "exit 3 (blockers found)"
    return "failed", f"exit {res['rc']}: {code or ''} {first}"[:160]


def run_bms(args, label, workspace):
    if label == "import":  # each import starts from an empty workspace
        shutil.rmtree(workspace, ignore_errors=True)
    if label == "plan":  # each plan starts without an earlier plan (no diff against it)
        for name in ("plan.json", "plan-changes.json"):
            try:
                os.remove(os.path.join(workspace, name))
            except FileNotFoundError:
                pass
    cmd = [BIN, *args[:1], "--workspace", workspace, "--json", *args[1:]]
    res = timed(cmd)
    status, note = bms_status(res)
    timings = None
    if res["rc"] in (0, 3):
        try:
            doc = json.loads(res["stdout"])
        except (ValueError, TypeError):
            doc = None
        timings = find_key(doc, "timings_ms")
        totals = doc.get("totals") if label == "import" and isinstance(doc, dict) else None
        if isinstance(totals, dict) and "kept" in totals:
            # Proves the run did the work: every row kept, nothing silently dropped.
            note = (note + "; " if note else "") + (
                f"rows kept {totals.get('kept')}, rejected {totals.get('rejected')}, "
                f"warnings {totals.get('warnings')}")
    return dict(status=status, note=note, wall=res["wall"], rss_mb=res["rss_mb"],
                timings_ms=timings)


def run_baseline(py, engine, path):
    res = timed([py, os.path.join(HERE, "baselines.py"), engine, path])
    if res["rc"] != 0:
        tail = res["stderr"].strip().splitlines()
        return dict(status="failed", note=(tail[-1] if tail else f"exit {res['rc']}")[:160],
                    wall=res["wall"], rss_mb=res["rss_mb"])
    try:
        inner = json.loads(res["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        inner = {}
    note = (f"in-process {inner.get('total_s', '?')} s; {inner.get('rows', '?')} rows, "
            f"{inner.get('distinct_upns', '?')} UPNs, {inner.get('distinct_licenses', '?')} products")
    return dict(status="ok", note=note, wall=res["wall"], rss_mb=res["rss_mb"], inner=inner)


def best_of(n, run):
    """The fastest of n runs (the least disturbed by other load), with how many were made."""
    results = [run() for _ in range(max(1, n))]
    ok = [r for r in results if r["status"] == "ok" and r.get("wall") is not None]
    best = min(ok, key=lambda r: r["wall"]) if ok else results[-1]
    if n > 1 and ok:
        walls = ", ".join(f"{r['wall']:.2f}" for r in ok)
        best["note"] = (best.get("note") or "") + f"; fastest of {len(ok)} runs ({walls} s)"
    return best


def fmt_s(x):
    return "" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def fmt_mb(x):
    return "" if x is None else f"{x:.0f}"


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k,1m", help="comma-separated user counts (10k,100k,1m)")
    ap.add_argument("--quick", action="store_true",
                    help="sizes 10k,100k only, no pandas+openpyxl XLSX baseline")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip the pandas+openpyxl XLSX baseline entirely")
    ap.add_argument("--slow-max", default="100k",
                    help="largest size for the pandas+openpyxl XLSX baseline (default 100k; "
                         "it takes ~5 min per million rows)")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measurement N times and keep the fastest (default 1)")
    ap.add_argument("--no-baselines", action="store_true", help="time bms2intune only")
    a = ap.parse_args()

    sizes = [parse_size(s) for s in ("10k,100k" if a.quick else a.sizes).split(",") if s]
    skip_slow = a.skip_slow or a.quick
    slow_max = parse_size(a.slow_max)
    os.makedirs(OUT, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()

    build_err = None
    if not a.no_build:
        build_err = build()
    elif not os.path.exists(BIN):
        build_err = f"{BIN} missing (run without --no-build)"
    py, venv_err = (None, "skipped (--no-baselines)") if a.no_baselines else ensure_venv()

    rows = []  # (size, input, tool, result dict)
    gen_times = {}
    for n in sizes:
        d, gen_s = ensure_data(n)
        if gen_s is not None:
            gen_times[size_label(n)] = gen_s
        f = lambda name: os.path.join(d, name)  # noqa: E731
        tenant = [f("users.csv"), f("groups.csv"), f("group-members.csv"), f("products.csv"),
                  f("devices.csv"), f("bms-policies.json")]
        ws = os.path.join(OUT, "ws", size_label(n))
        label = size_label(n)
        log(f"== {label} users")

        def bms(inp, tool, args, kind):
            if build_err:
                r = dict(status="not available", note=build_err, wall=None, rss_mb=None)
            else:
                r = best_of(a.repeat, lambda: run_bms(args, kind, ws))
            log(f"   {inp:13} {tool:22} {r['status']:13} {fmt_s(r['wall']):>7} s "
                f"{fmt_mb(r['rss_mb']):>6} MB {r['note']}")
            rows.append((n, inp, tool, r))

        def base(inp, tool, engine, path):
            if not py:
                r = dict(status="not available", note=venv_err, wall=None, rss_mb=None)
            else:
                r = best_of(a.repeat, lambda: run_baseline(py, engine, path))
            log(f"   {inp:13} {tool:22} {r['status']:13} {fmt_s(r['wall']):>7} s "
                f"{fmt_mb(r['rss_mb']):>6} MB {r['note']}")
            rows.append((n, inp, tool, r))

        bms("users CSV", "bms2intune import", ["import", f("users.csv")], "import")
        base("users CSV", "pandas read_csv (C)", "pandas-csv", f("users.csv"))
        base("users CSV", "polars read_csv", "polars-csv", f("users.csv"))
        bms("users XLSX", "bms2intune import", ["import", f("users.xlsx")], "import")
        base("users XLSX", "polars read_excel", "polars-xlsx", f("users.xlsx"))
        if not skip_slow and n <= slow_max:
            base("users XLSX", "pandas read_excel", "pandas-xlsx", f("users.xlsx"))
        else:
            why = "skipped (--skip-slow/--quick)" if skip_slow else \
                f"skipped above {size_label(slow_max)} (--slow-max); ~5 min per million rows"
            rows.append((n, "users XLSX", "pandas read_excel",
                         dict(status="skipped", note=why, wall=None, rss_mb=None)))
        bms("whole tenant", "bms2intune import", ["import", *tenant], "import")
        bms("whole tenant", "bms2intune readiness", ["readiness"], "readiness")
        bms("whole tenant", "bms2intune plan",
            ["plan", "--pilot-group", "BMS Pilot"], "plan")

    load = (load_before, os.getloadavg())
    write_results(rows, sizes, started, gen_times, build_err, load)
    return 0


def machine():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s*(\d+) kB", f.read())
            mem = f"{int(m.group(1)) / 1024 / 1024:.0f} GB RAM" if m else ""
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}"


def git_rev():
    r = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True,
                       text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + (" (+ uncommitted changes)" if dirty else "")


def ratio_text(other, ours):
    """bms2intune's time against another tool's, said from bms2intune's side."""
    if other >= ours:
        return f"bms2intune {other / ours:.1f}x faster"
    return f"bms2intune {ours / other:.1f}x slower"


def write_results(rows, sizes, started, gen_times, build_err, load):
    ref = {}  # (size, input) -> bms2intune import wall
    for n, inp, tool, r in rows:
        if tool == "bms2intune import" and r["status"] == "ok":
            ref[(n, inp)] = r["wall"]
    header = ["Users", "Input", "Tool", "Status", "Wall s", "Peak RSS MB", "Ratio (end to end)",
              "Ratio (in-process)", "Target (1M)", "Notes"]
    table = []
    for n, inp, tool, r in rows:
        ratio = inproc = ""
        base = ref.get((n, inp))
        if not tool.startswith("bms2intune") and base and r.get("wall") and r["status"] == "ok":
            ratio = ratio_text(r["wall"], base)
            inner = (r.get("inner") or {}).get("total_s")
            if inner:
                inproc = ratio_text(inner, base)
        target = ""
        t = TARGETS.get((inp, tool))
        if t and n == 1_000_000 and r["status"] == "ok":
            ok = r["wall"] < t[0] and (r["rss_mb"] or 0) < RSS_TARGET_MB
            target = f"{t[1]}, < 1 GB: {'met' if ok else 'MISSED'}"
        elif t:
            target = t[1]
        notes = r.get("note", "")
        if r.get("timings_ms"):
            notes = (notes + " " if notes else "") + "timings_ms " + json.dumps(
                r["timings_ms"], separators=(",", ":"))
        table.append([size_label(n), inp, tool, r["status"], fmt_s(r.get("wall")),
                      fmt_mb(r.get("rss_mb")), ratio, inproc, target, notes])

    # Terminal table.
    widths = [max(len(str(x[i])) for x in [header] + table) for i in range(len(header) - 1)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    print(line(header[:-1]))
    print(line(["-" * w for w in widths]))
    for row in table:
        print(line(row[:-1]))

    md = ["# bms2intune benchmark results", "",
          f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
          f"- Machine: {machine()}",
          f"- Load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in load[0])}, "
          f"at end {'/'.join(f'{x:.1f}' for x in load[1])}: on a shared machine, other work "
          "inflates every figure alike",
          f"- Code: {git_rev()}",
          "- Command: `" + " ".join(["bench/run.sh"] + sys.argv[1:]) + "`",
          f"- Baselines: {baseline_versions() or 'not installed'}; Python {platform.python_version()}",
          "- Wall = end to end (process start to exit, including interpreter start-up and imports "
          "for the baselines); peak RSS from `/usr/bin/time -v`. \"Ratio (end to end)\" compares a baseline with "
          "`bms2intune import` of the same file, both end to end; \"Ratio (in-process)\" "
          "compares bms2intune's end-to-end time with the baseline's time inside Python (read + "
          "normalise, interpreter start-up and imports excluded): the stricter comparison."]
    if gen_times:
        md.append("- Data generated this run: " + ", ".join(
            f"{k} in {v:.0f} s" for k, v in gen_times.items()) + " (cached in bench/out/data/)")
    if build_err:
        md.append(f"- bms2intune: {build_err}")
    md += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table:
        md.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    md.append("")
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump([dict(users=n, input=inp, tool=tool, **{k: v for k, v in r.items()})
                   for n, inp, tool, r in rows], f, indent=1, default=str)
    log(f"== wrote {os.path.join(OUT, 'results.md')}")


if __name__ == "__main__":
    sys.exit(main())

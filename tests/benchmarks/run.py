"""`make bench`: this site's Lambda package against a bare Django project, measured in
the same run on the same machine, as one table of figures and ratios.

- cold start: a fresh interpreter imports Zappa's handler from the unzipped package and
  answers one request (our home page from the database; the bare project's hello-world
  page); median of interleaved runs, so machine noise hits both alike;
- restored cold start (SnapStart, production): the function's entry point imported as a
  SnapStart init imports it (Django loaded and primed) and the before-snapshot hooks run
  before the clock starts; then the after-restore hooks and the first request, timed
  (tests.lambda_runtime.RESTORED), interleaved with the two above;
- warm latency: one process per package answers each page many times through Zappa's
  handler (real API Gateway events); median and p99;
- SQL queries per page (after warm-up), peak memory of the warm process, zip size.

The bare project is `django-admin startproject` plus a hello-world view, packaged by the
same Zappa with the same excludes and bytecode, from a virtualenv holding only Django
and Zappa. Both use SQLite on local disk; AWS is never called.

    python -m tests.benchmarks.run [--write docs/benchmarks.md] [--quick]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tests.lambda_fixtures import stage_config
from tests.lambda_runtime import (
    ROOT,
    api_event,
    bare_venv,
    build_bare_package,
    cold_start,
    production_env,
    runtime_sdk,
    seeded_database,
    unpack_like_lambda,
)

BUDGETS = {
    "cold": 1.15,  # cold start to the first content page, x the bare project (issue 15)
    "memory": 1.25,  # peak memory (VmHWM) of the warm process, x the bare project
    "warm": 10.0,  # warm p50 of home, list and detail, x the bare hello-world page
    "queries": 6,  # SQL queries per public page or API list
}
# The function Lambda calls (cms.lambda_entry): where SnapStart's init loads Django.
ENTRY = stage_config("dev")["lambda_handler"]
PAGES = [
    # label, path, held to the warm budget
    ("home", "/", True),
    ("article list", "/articles/", True),
    ("article detail", "/articles/welcome/", True),
    ("search", "/search/?q=lambda", False),
    ("RSS feed", "/feeds/rss/", False),
    ("API article list", "/api/v1/articles/", False),
]

WARM = r"""
import json, os, sys, time
package, sdk, spec = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
os.chdir(package)
sys.path[:0] = [package, sdk]
import handler

def call(event):
    response = handler.lambda_handler(event, None)
    assert response["statusCode"] == 200, (event["path"], response["statusCode"])

def unique(event, n):
    # A query string no earlier request had: a page cache miss, so the page renders.
    params = dict(event["queryStringParameters"] or {}, _bench=str(n))
    return {**event, "queryStringParameters": params,
            "multiValueQueryStringParameters": {k: [v] for k, v in params.items()}}

def timed(events):
    times = []
    for event in events:
        started = time.perf_counter()
        call(event)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return {"p50": times[len(times) // 2], "p99": p99}

def peak_rss_kb():
    # VmHWM starts afresh at exec; getrusage's ru_maxrss keeps the parent's.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

call(spec["pages"][0]["event"])  # Django starts here
from django.db import connection

results, n = {}, 0
for page in spec["pages"]:
    event = page["event"]
    for _ in range(spec["warmup"]):
        n += 1
        call(event)
        call(unique(event, n))
    queries = {}
    for mode, probe in (("repeat", event), ("rendered", unique(event, -1))):
        seen = []
        def count(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)
        with connection.execute_wrapper(count):
            call(probe)
        queries[mode] = len(seen)
    repeat = timed([event] * spec["samples"])
    rendered = timed([unique(event, n + i + 1) for i in range(spec["samples"])])
    n += spec["samples"]
    results[page["path"]] = {"repeat": repeat, "rendered": rendered, "queries": queries}
print(json.dumps({"pages": results, "max_rss_kb": peak_rss_kb()}))
"""


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def warm(tree, sdk, env, paths, samples, warmup):
    spec = {
        "pages": [{"path": p, "event": api_event(p)} for p in paths],
        "samples": samples,
        "warmup": warmup,
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", WARM, str(tree), str(sdk)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **env},
        timeout=900,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"warm run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(work):
    log("building this site's package (cms.lambda_build)")
    ours_zip = work / "ours.zip"
    subprocess.run(
        [sys.executable, "-m", "cms.lambda_build", "package", "dev", "--output", str(ours_zip)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log("building the bare Django project's package")
    venv = bare_venv(ROOT / ".build" / "bare-venv")
    bare_zip = build_bare_package(work / "bare", work / "bare.zip", venv=venv)
    return ours_zip, bare_zip


def measure(args):
    work = Path(tempfile.mkdtemp(prefix="lambda-cms-bench-"))
    ours_zip, bare_zip = build(work)
    ours = unpack_like_lambda(ours_zip, work / "ours-tree")
    bare = unpack_like_lambda(bare_zip, work / "bare-tree")
    sdk = runtime_sdk(ROOT / ".build" / "runtime-sdk")
    log("seeding a SQLite database with the demo content")
    ours_env = production_env(seeded_database(work / "db.sqlite3"))
    bare_env = {"AWS_DEFAULT_REGION": "eu-west-1"}

    log(f"cold starts: {args.cold} of each, interleaved")
    for tree, env in ((ours, ours_env), (bare, bare_env)):
        cold_start(tree, sdk, env=env)  # the page cache, not the interpreter
    cold = {"ours": [], "bare": [], "restored": []}
    for _ in range(args.cold):
        outcome = cold_start(ours, sdk, env=ours_env)
        restored = cold_start(ours, sdk, env=ours_env, entry=ENTRY, restored=True)
        for start in (outcome, restored):
            if start["status"] != 200 or "Welcome to Lambda CMS" not in start["body"]:
                raise RuntimeError(f"cold start answered {start['status']}")
        if restored["hooks"] != [1, 1]:
            raise RuntimeError(f"SnapStart hooks registered: {restored['hooks']}, not [1, 1]")
        cold["ours"].append(outcome)
        cold["restored"].append(restored)
        cold["bare"].append(cold_start(bare, sdk, env=bare_env))

    log(f"warm requests: {args.samples} per page after {args.warmup} to warm up")
    ours_warm = warm(ours, sdk, ours_env, [p for _, p, _ in PAGES], args.samples, args.warmup)
    bare_warm = warm(bare, sdk, bare_env, ["/"], args.samples, args.warmup)
    restored = cold.pop("restored")
    return {
        "cold": {
            side: {
                "ms": statistics.median(o["ms"] for o in runs),
                "cpu_ms": statistics.median(o["cpu_ms"] for o in runs),
                "modules": len(runs[0]["modules"]),
            }
            for side, runs in cold.items()
        },
        "restored": {
            "ms": statistics.median(o["ms"] for o in restored),
            "cpu_ms": statistics.median(o["cpu_ms"] for o in restored),
            "init_ms": statistics.median(o["init_ms"] for o in restored),
            "imported_after_restore": len(restored[0]["imported_after_restore"]),
        },
        "ours": ours_warm,
        "bare": bare_warm,
        "size": {"ours": ours_zip.stat().st_size, "bare": bare_zip.stat().st_size},
        "samples": {"cold": args.cold, "warm": args.samples},
    }


def verdict(ok):
    return "ok" if ok else "**over**"


def table(figures):
    rows = []
    cold, size = figures["cold"], figures["size"]
    for name, key, budget in (
        ("Cold start to first page, wall (ms, median)", "ms", BUDGETS["cold"]),
        ("Cold start, CPU time (ms, median)", "cpu_ms", None),
        ("Modules imported by a cold start", "modules", None),
    ):
        ratio = cold["ours"][key] / cold["bare"][key]
        verdict_text = f"≤ {budget}x {verdict(ratio <= budget)}" if budget else ""
        rows.append((name, cold["ours"][key], cold["bare"][key], ratio, verdict_text))
    if restored := figures.get("restored"):
        for name, key, bare_key in (
            ("Restored SnapStart cold start: after-restore hooks + first page, wall (ms, "
             "median)", "ms", "ms"),
            ("Restored SnapStart cold start, CPU time (ms, median)", "cpu_ms", "cpu_ms"),
            ("SnapStart init + before-snapshot hooks, once per version (ms, median)",
             "init_ms", None),
            ("Modules imported after the restore", "imported_after_restore", None),
        ):  # fmt: skip
            bare_value = cold["bare"][bare_key] if bare_key else None
            ratio = restored[key] / bare_value if bare_value else None
            rows.append((name, restored[key], bare_value, ratio, ""))
    hello = figures["bare"]["pages"]["/"]["repeat"]
    for mode, title in (("repeat", "repeated (page cache)"), ("rendered", "rendered")):
        for label, path, budgeted in PAGES:
            page = figures["ours"]["pages"][path][mode]
            ratio = page["p50"] / hello["p50"]
            budget = ""
            if budgeted:
                budget = f"≤ {BUDGETS['warm']:g}x {verdict(ratio <= BUDGETS['warm'])}"
            rows.append(
                (
                    f"Warm p50, {label} `{path}`, {title} (ms)",
                    page["p50"],
                    hello["p50"],
                    ratio,
                    budget,
                )
            )
            rows.append(
                (
                    f"Warm p99, {label}, {title} (ms)",
                    page["p99"],
                    hello["p99"],
                    page["p99"] / hello["p99"],
                    "",
                )
            )
    bare_queries = figures["bare"]["pages"]["/"]["queries"]["repeat"]
    for label, path, _ in PAGES:
        counts = figures["ours"]["pages"][path]["queries"]
        worst = max(counts.values())
        rows.append(
            (
                f"SQL queries, {label} (repeated / rendered)",
                f"{counts['repeat']} / {counts['rendered']}",
                bare_queries,
                None,
                f"≤ {BUDGETS['queries']} {verdict(worst <= BUDGETS['queries'])}",
            )
        )
    rss = (figures["ours"]["max_rss_kb"] / 1024, figures["bare"]["max_rss_kb"] / 1024)
    memory = rss[0] / rss[1]
    rows.append(
        (
            "Peak memory, warm process (MiB)",
            *rss,
            memory,
            f"≤ {BUDGETS['memory']}x {verdict(memory <= BUDGETS['memory'])}",
        )
    )
    mib = (size["ours"] / 2**20, size["bare"] / 2**20)
    rows.append(("Package size, zipped (MiB)", *mib, mib[0] / mib[1], "< 20 MiB (our build check)"))

    def fmt(value):
        if value is None:
            return "-"
        if isinstance(value, str):
            return value
        return f"{value:.0f}" if isinstance(value, int) or value >= 100 else f"{value:.1f}"

    lines = [
        "| Measure | This site | Bare Django | Ratio | Budget |",
        "|---|---:|---:|---:|---|",
    ]
    for name, ours, bare, ratio, budget in rows:
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        lines.append(f"| {name} | {fmt(ours)} | {fmt(bare)} | {shown} | {budget} |")
    return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()} on {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=15, help="cold starts of each package")
    parser.add_argument("--samples", type=int, default=300, help="warm requests per page")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="few samples: a smoke run")
    parser.add_argument("--write", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.cold, args.samples, args.warmup = 3, 30, 5
    figures = measure(args)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"Measured {when} on {machine()}. Cold starts: median of {args.cold} each, "
        f"interleaved; warm: {args.samples} requests per page after {args.warmup}."
    )
    out = f"{header}\n\n{table(figures)}\n"
    print(out)
    if args.write:
        args.write.write_text(
            args.write.read_text().split("<!-- bench -->")[0] + "<!-- bench -->\n\n" + out
            if args.write.exists() and "<!-- bench -->" in args.write.read_text()
            else out
        )
        (args.write.with_suffix(".json")).write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

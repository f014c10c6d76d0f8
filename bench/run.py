"""Run every benchmark, print a table and update docs/BENCHMARKS.md.

    .venv/bin/python -m bench.run            # full run (what `make bench` does); writes the doc
    .venv/bin/python -m bench.run --quick    # smoke run with small counts; prints only

Each benchmark starts its own private stack (temp dir, Redis on a free port, app on a free
port) and stops it in all cases. A benchmark that crashes is reported and the others still
run; the exit status is 1 then. Missing a target is a finding, not a failure.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import traceback
from datetime import UTC, datetime

from bench import (
    browser_latency,
    job_control,
    pg_upload,
    products_scale,
    reporter_cost,
    sessions,
    sse_latency,
    tasks_scale,
    upload_throughput,
    webhooks,
)
from bench import stats as history_stats
from bench.common import BENCH_CACHE, Result, log, machine_info
from bench.cpu import wait_for_quiet
from bench.report import browser_breakdown_markdown, console_table, results_markdown, write_doc

BENCHES = (
    "reporter",
    "upload",
    "control",
    "sse",
    "webhooks",
    "stats",
    "browser",
    "sessions",
    "pg-upload",
    "tasks",
    "products",
)
# Written to a part of docs/BENCHMARKS.md of their own, so running one alone keeps the rest.
OWN_SECTION = ("pg-upload",)


def _command() -> str:
    if os.environ.get("MAKELEVEL"):
        return "make bench"
    args = " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f".venv/bin/python -m bench.run{' ' + args if args else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small counts (smoke check)")
    parser.add_argument("--only", action="append", choices=BENCHES, help="run only these")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="update docs/BENCHMARKS.md (default: yes for a full run, no with --quick)",
    )
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=0.3,
        help="before each benchmark wait until the machine keeps fewer cores busy (0 = don't)",
    )
    parser.add_argument("--quiet-timeout", type=float, default=300.0, help="seconds, at most")
    parser.add_argument(
        "--browser-rate",
        type=float,
        action="append",
        default=None,
        help="updates/s per job in the 50-job browser scenarios (repeatable; default 10, 2, 1)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (stack logs)")
    args = parser.parse_args(argv)
    write = (not args.quick) if args.write is None else args.write
    selected = args.only or list(BENCHES)
    rates = tuple(args.browser_rate or browser_latency.DEFAULT_RATES)

    started = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results: list[Result] = []
    infos: list[dict] = []
    failed = False
    for name in BENCHES:
        if name not in selected:
            continue
        if args.quiet_cores > 0:
            log(f"{name}: waiting for a quiet machine (< {args.quiet_cores} cores busy)")
            busy = wait_for_quiet(args.quiet_cores, args.quiet_timeout)
            log(f"{name}: machine keeps {busy:.2f} cores busy before the run")
        else:
            busy = None
        try:
            if name == "reporter":
                res = reporter_cost.run(args.quick, args.keep)
            elif name == "upload":
                res = upload_throughput.run(args.quick, args.keep)
            elif name == "control":
                res = job_control.run(args.quick, args.keep)
            elif name == "webhooks":
                res = webhooks.run(args.quick, args.keep)
            elif name == "stats":
                res = history_stats.run(
                    args.quick,
                    args.keep,
                    postgres=os.environ.get("JOBBOARD_BENCH_POSTGRES_URL", ""),
                )
            elif name == "pg-upload":
                res = pg_upload.run(args.quick, args.keep)
            elif name == "sse":
                res = sse_latency.run(args.quick, args.keep)
            elif name == "tasks":  # the 10M-job databases are built once, then reused
                res = tasks_scale.run(args.quick, args.keep)
            elif name == "products":  # likewise the million products (var/bench-cache)
                cache = None if args.quick else BENCH_CACHE
                if cache:
                    cache.mkdir(parents=True, exist_ok=True)
                res = products_scale.run(args.quick, args.keep, cache=cache)
            elif name == "sessions":
                res = sessions.run(args.quick)
            else:
                res, more = browser_latency.run(
                    args.quick,
                    args.keep,
                    rates,
                    quiet_cores=args.quiet_cores,
                    quiet_timeout=args.quiet_timeout,
                )
                infos += more
        except Exception as exc:
            failed = True
            traceback.print_exc()
            res = [Result(name, "FAILED", None, "", note=f"{type(exc).__name__}: {exc}"[:500])]
        if busy is not None:
            res.append(
                Result(
                    name,
                    "machine load just before the run",
                    busy,
                    "cores busy",
                    note=f"of {len(os.sched_getaffinity(0))}; other people's work included",
                )
            )
        results += res

    duration = time.monotonic() - started
    print()
    print(console_table(results))
    if write:
        command = _command() + (" (quick)" if args.quick and "--quick" not in _command() else "")
        parts = {"results": [r for r in results if r.bench not in OWN_SECTION]}
        parts |= {key: [r for r in results if r.bench == key] for key in OWN_SECTION}
        for key, part in parts.items():
            if not part:
                continue  # not run this time: its figures stay as they were
            section = results_markdown(
                part,
                machine_info(),
                date=date,
                command=command,
                duration_s=duration,
                extra=browser_breakdown_markdown(infos) if key == "results" else [],
            )
            path = write_doc(section, key=key)
            log(f"wrote the {key} part of {path}")
    else:
        log("docs/BENCHMARKS.md not written (quick run; --write to force)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Cost of `ProgressReporter.update()` in a worker: coalesced (default) and un-coalesced.

Needs Redis and the DB only (no app, no RQ worker: the job is moved to processing here).
Run alone: `python -m bench.reporter_cost [--quick]`.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench.common import Result, log, percentile, private_stack

NAME = "reporter"


def _new_job(title: str):
    from jobboard.core import jobs
    from jobboard.core.settings import get_settings

    owner = get_settings().local_user
    job = jobs.submit(
        "product_upload", owner_id=owner, title=title, params={"path": "/nonexistent"}
    )
    started = jobs.start(job.id)
    assert started is not None
    return started


def _coalesced(calls: int) -> tuple[float, int]:
    """ns per update(processed=i) with the default interval; and how many events went out."""
    from jobboard.core.progress import ProgressReporter

    reporter = ProgressReporter(_new_job("bench coalesced"))
    update = reporter.update
    reporter.update(step="bench", processed=0, total=calls)  # the first call always flushes
    gc.collect()
    t0 = time.perf_counter_ns()
    for i in range(calls):
        update(processed=i)
    elapsed = time.perf_counter_ns() - t0
    reporter.close()
    return elapsed / calls, reporter.flushes


def _uncoalesced(calls: int) -> tuple[float, float, float]:
    """Mean, p50 and p99 µs of one update with interval=0 (each call publishes)."""
    from jobboard.core.progress import ProgressReporter

    reporter = ProgressReporter(_new_job("bench flush"), interval=0.0)
    for i in range(50):  # warm the connection, the script cache and the DB
        reporter.update(processed=i, total=calls)
    samples = []
    clock = time.perf_counter_ns
    t_all = clock()
    for i in range(calls):
        t0 = clock()
        reporter.update(processed=i)
        samples.append((clock() - t0) / 1000)
    mean = (clock() - t_all) / 1000 / calls
    reporter.close()
    return mean, percentile(samples, 50), percentile(samples, 99)


def run(quick: bool = False, keep: bool = False) -> list[Result]:
    calls = 100_000 if quick else 1_000_000
    flushes = 1_000 if quick else 10_000
    results: list[Result] = []
    with private_stack(NAME, workers=0, app=False, keep=keep):
        log(f"{NAME}: {calls:,} coalesced update() calls")
        ns, events = _coalesced(calls)
        results.append(
            Result(
                NAME,
                f"update(processed=i), interval 0.1 s ({calls:,} calls)",
                ns,
                "ns/call",
                note=f"{events} events published during the loop",
            )
        )
        log(f"{NAME}: {flushes:,} un-coalesced flushes")
        mean, p50, p99 = _uncoalesced(flushes)
        for label, value in (("mean", mean), ("p50", p50), ("p99", p99)):
            results.append(
                Result(
                    NAME,
                    f"un-coalesced flush (interval 0, publish to Redis), {label}",
                    value,
                    "µs/call",
                    note=f"{flushes:,} calls" if label == "mean" else "",
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for r in run(args.quick):
        print(f"{r.metric}: {r.shown()} {r.unit} {r.note}")


if __name__ == "__main__":
    main()

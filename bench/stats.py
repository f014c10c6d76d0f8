"""Time of the History figures (`jobboard.core.stats.summary`, what /api/v1/stats and the
History page call) over a large rollup.

The rollup holds one year of hourly rows for every job kind of the measured owner plus
`--owners` other owners with 90 days each (1,000,000+ rows in a full run), so the answer
must come from the owner's own rows of the window, whatever else the table holds.
Needs only the database: SQLite in a temp dir, or PostgreSQL with `--postgres URL`
(a throw-away database is created there and dropped).

    .venv/bin/python -m bench.stats [--quick] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import Result, log, percentile

NAME = "stats"
REPEAT = 30


def _rows(owner: str, days: int, hour_now: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    from jobboard.core import stats
    from jobboard.core.jobs import KINDS

    for hour in range(hour_now - days * 24 + 1, hour_now + 1):
        for kind in KINDS:
            completed = rng.randint(0, 40)
            row: dict[str, Any] = {
                "owner_id": owner,
                "hour": hour,
                "kind": kind,
                "completed": completed,
                "failed": rng.randint(0, 3),
                "cancelled": rng.randint(0, 1),
                "duration_sum": 0.0,
            }
            row |= dict.fromkeys(stats.BUCKETS, 0)
            for _ in range(completed):
                row[stats.BUCKETS[rng.randint(3, 9)]] += 1
            yield row


def _fill(owners: int, own_days: int, other_days: int) -> int:
    from jobboard.core import stats
    from jobboard.core.db import get_engine
    from jobboard.core.models import utcnow

    rng = random.Random(7)
    now = stats.epoch_hour(utcnow())
    written = 0
    insert = stats.job_stat.insert()
    with get_engine().begin() as conn:
        for index in range(owners + 1):
            owner = "bench-owner" if index == 0 else f"other-{index}"
            batch = list(_rows(owner, own_days if index == 0 else other_days, now, rng))
            conn.execute(insert, batch)
            written += len(batch)
    return written


def _measure(owner: str, window: str) -> tuple[float, float, float, int]:
    """Wall-clock p50 and p95 (ms) and this process' CPU time per call (ms; with SQLite that
    includes the database's work, which a busy machine cannot inflate as much)."""
    from jobboard.core import stats

    stats.summary(owner, window)  # warm the connection and the page cache
    samples = []
    points = 0
    cpu0 = time.process_time()
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        found = stats.summary(owner, window)
        samples.append((time.perf_counter() - t0) * 1000)
        points = sum(len(k["series"]) for k in found["kinds"])
    cpu = (time.process_time() - cpu0) * 1000 / REPEAT
    return percentile(samples, 50), percentile(samples, 95), cpu, points


def _use_database(url: str, var_dir: Path) -> None:
    from jobboard.core.settings import get_settings

    os.environ["DATABASE_URL"] = url
    os.environ["JOBBOARD_VAR_DIR"] = str(var_dir)
    get_settings.cache_clear()


def run(quick: bool = False, keep: bool = False, postgres: str = "") -> list[Result]:
    from jobboard.core.db import _engine_for, migrate
    from jobboard.core.settings import normalize_database_url

    owners = 20 if quick else 100
    var_dir = Path(tempfile.mkdtemp(prefix="jobboard-bench-stats-"))
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "JOBBOARD_VAR_DIR")}
    admin = db_name = ""
    if postgres:
        import psycopg

        admin = normalize_database_url(postgres).replace("postgresql+psycopg://", "postgresql://")
        db_name = f"jobboard_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = normalize_database_url(admin.rsplit("/", 1)[0] + "/" + db_name)
    else:
        url = f"sqlite:///{var_dir / 'jobboard.db'}"
    engine_name = "PostgreSQL" if postgres else "SQLite"
    results: list[Result] = []
    try:
        _use_database(url, var_dir)
        migrate()
        log(f"{NAME}: filling the rollup ({engine_name}, {owners} other owners)")
        t0 = time.perf_counter()
        rows = _fill(owners, own_days=365, other_days=90)
        log(f"{NAME}: {rows:,} rollup rows in {time.perf_counter() - t0:.0f} s")
        if postgres:
            from sqlalchemy import text

            from jobboard.core.db import get_engine

            with get_engine().begin() as conn:
                conn.execute(text("ANALYZE job_stat"))
        load = os.getloadavg()[0]
        for window in ("24h", "7d", "30d"):
            p50, p95, cpu, points = _measure("bench-owner", window)
            note = (
                f"{rows:,} rollup rows; {points} points for 6 kinds; {REPEAT} runs; "
                f"load average {load:.1f} before"
            )
            label = f"summary {window}, {engine_name}"
            results.append(Result(NAME, f"{label}, p50", p50, "ms", note=note))
            results.append(Result(NAME, f"{label}, p95", p95, "ms"))
            results.append(Result(NAME, f"{label}, CPU of the calling process", cpu, "ms/call"))
    finally:
        _engine_for(normalize_database_url(url)).dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if postgres:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        if not keep:
            shutil.rmtree(var_dir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL (admin rights)")
    args = parser.parse_args()
    for r in run(args.quick, postgres=args.postgres):
        print(f"{r.metric}: {r.shown()} {r.unit} {r.note}")


if __name__ == "__main__":
    main()

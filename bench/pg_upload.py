"""Two concurrent 300,000-row uploads, five times over the same files, on PostgreSQL (and,
for comparison, on SQLite).

Each round submits the two files at once to a stack with two RQ workers: round 1 inserts
every row, rounds 2–5 upload the same files again, as a catalog re-imported every night
(the case where a read-before-write upsert once fell to 331 rows/s on a table full of dead
row versions): every row is found unchanged and left alone. A sixth round uploads files in
which every row changed (same keys, other values), so every row is rewritten. rows/s of a
job = rows / (completed_at − started_at) of its DB row; the figure that counts is the
slowest of the jobs.

Run alone: `python -m bench.pg_upload [--quick] [--sqlite]`. The PostgreSQL server comes
from $JOBBOARD_BENCH_POSTGRES_URL (else $JOBBOARD_TEST_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/postgres); a throw-away database is created there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime

from bench.common import Result, log, private_stack
from bench.cpu import _TICK, CpuMeter, _stat, descendants
from bench.upload_throughput import _wait_done, make_csv

NAME = "pg-upload"
TARGET_ROWS_PER_S = 15_000
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    return (
        os.environ.get("JOBBOARD_BENCH_POSTGRES_URL")
        or os.environ.get("JOBBOARD_TEST_POSTGRES_URL")
        or DEFAULT_PG_URL
    )


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server for one run; dropped afterwards. Yields its URL."""
    import psycopg

    from jobboard.core.settings import normalize_database_url

    plain = normalize_database_url(admin_url).replace("postgresql+psycopg://", "postgresql://")
    name = f"jobboard_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield normalize_database_url(plain.rsplit("/", 1)[0] + "/" + name)
    finally:
        from jobboard.core.db import _engine_for

        with contextlib.suppress(Exception):
            _engine_for(normalize_database_url(plain.rsplit("/", 1)[0] + "/" + name)).dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _table_health(database_url: str) -> str:
    """Live and dead row versions of the product table, and whether it was ever analyzed."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT n_live_tup, n_dead_tup, last_analyze IS NOT NULL OR last_autoanalyze IS NOT"
            " NULL, last_autovacuum IS NOT NULL FROM pg_stat_user_tables"
            " WHERE relname = 'product'"
        ).fetchone()
    if row is None:
        return ""
    live, dead, analyzed, vacuumed = row
    return (
        f"product table at the end: {live:,} live, {dead:,} dead row versions; "
        f"analyzed: {'yes' if analyzed else 'no'}, autovacuumed: {'yes' if vacuumed else 'no'}"
    )


class _BackendCpu:
    """CPU seconds of the PostgreSQL server processes serving one database: its backends
    come and go with the work horses, so they are sampled every 0.2 s while it runs."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, conn: object) -> None:
        pids = [
            pid
            for (pid,) in conn.execute(  # type: ignore[attr-defined]
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        ]
        for pid in pids:
            if st := _stat(pid):
                self.first.setdefault(pid, st[1])
                self.last[pid] = st[1]

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                self._sample(conn)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return sum(self.last[pid] - self.first[pid] for pid in self.last) / _TICK


def _round(files: list, rows: int, round_no: int, expect: str) -> list[float]:
    from jobboard.core import jobs
    from jobboard.core.settings import get_settings

    owner = get_settings().local_user
    submitted = [
        jobs.submit(
            "product_upload",
            owner_id=owner,
            title=f"bench {path.name} round {round_no}",
            params={"path": str(path), "filename": path.name},
        )
        for path in files
    ]
    done = [_wait_done(job.id, owner, timeout=1800, poll=0.5) for job in submitted]
    spans = []
    for job in done:
        result = job["result_data"] or {}
        if job["status"] != "completed":
            raise RuntimeError(f"upload ended {job['status']}: {job.get('error_data')}")
        if result.get(expect) != rows:
            raise RuntimeError(f"round {round_no}: expected {rows} {expect}, got {result}")
        spans.append(
            (datetime.fromisoformat(job["started_at"]), datetime.fromisoformat(job["completed_at"]))
        )
    if max(s for s, _ in spans) >= min(e for _, e in spans):
        raise RuntimeError(f"round {round_no}: the two uploads did not run at the same time")
    return [rows / (end - start).total_seconds() for start, end in spans]


def concurrent_rounds(
    engine: str, database_url: str, rows: int, rounds: int, keep: bool = False
) -> list[Result]:
    """`rounds` rounds of two concurrent `rows`-row uploads of the same two files, then one
    round of two files with the same keys and every row changed."""
    target = TARGET_ROWS_PER_S if engine == "PostgreSQL" else None
    results: list[Result] = []
    with private_stack(
        f"{NAME}-{engine.lower()}", workers=2, database_url=database_url, keep=keep
    ) as (stack, var_dir):
        files = [var_dir / "upload-a.csv", var_dir / "upload-b.csv"]
        changed = [var_dir / "changed-a.csv", var_dir / "changed-b.csv"]
        for seed, (path, other) in enumerate(zip(files, changed, strict=True), start=1):
            # Up to two sentences of description: 300,000 rows stay under the 50 MB upload limit.
            prefix = path.stem[-1].upper()
            size = make_csv(path, rows, seed=seed, prefix=prefix, sentences=2)
            make_csv(other, rows, seed=seed + 10, prefix=prefix, sentences=2)  # same keys
        log(f"{NAME}: two {rows:,}-row CSVs of {size / 1e6:.1f} MB, {engine}")
        rates: list[list[float]] = []
        cpu_notes: list[str] = []
        plan = [(files, "imported", "inserts")]
        plan += [(files, "unchanged", "same files again")] * (rounds - 1)
        plan += [(changed, "updated", "every row changed")]
        for n, (round_files, expect, _what) in enumerate(plan, start=1):
            meter = CpuMeter(
                {"workers": lambda: set().union(*(descendants(p.pid) for p in stack.worker_procs))}
            )
            backends = _BackendCpu(database_url) if engine == "PostgreSQL" else None
            meter.start()
            if backends:
                backends.start()
            rates.append(_round(round_files, rows, n, expect))
            cpu = meter.stop()
            server = backends.stop() if backends else 0.0
            # CPU per row of both jobs: with two cores to themselves, each job could go
            # about 1 / (CPU seconds per row) rows/s (the two share the two cores).
            per_row = (cpu["workers"] + server) / (2 * rows)
            cpu_notes.append(
                f"CPU per 1,000 rows: workers {cpu['workers'] * 1e6 / (2 * rows):.0f} ms"
                + (f", PostgreSQL {server * 1e6 / (2 * rows):.0f} ms" if backends else "")
                + f"; other processes on the machine kept {cpu[CpuMeter.OTHER]:.0f} CPU-s busy"
                + (f" (≈ {1 / per_row:,.0f} rows/s per job on two free cores)" if per_row else "")
            )
            log(f"{NAME}: {engine} round {n}: " + ", ".join(f"{r:,.0f}" for r in rates[-1]))
            log(f"{NAME}: {cpu_notes[-1]}")
        for n, pair in enumerate(rates, start=1):
            results.append(
                Result(
                    NAME,
                    f"{engine}, round {n} ({plan[n - 1][2]}): slower of two "
                    f"concurrent {rows:,}-row uploads",
                    min(pair),
                    "rows/s",
                    target=f"≥ {target:,}" if target else "",
                    met=min(pair) >= target if target else None,
                    note=(
                        f"the two jobs: {pair[0]:,.0f} and {pair[1]:,.0f} rows/s; "
                        + cpu_notes[n - 1]
                    ),
                )
            )
        worst = min(min(pair) for pair in rates)
        health = _table_health(database_url) if engine == "PostgreSQL" else ""
        results.append(
            Result(
                NAME,
                f"{engine}: slowest of {2 * len(plan)} uploads ({len(plan)} rounds of two at once)",
                worst,
                "rows/s",
                target=f"≥ {target:,}" if target else "",
                met=worst >= target if target else None,
                note=health,
            )
        )
    return results


def run(quick: bool = False, keep: bool = False, sqlite: bool = True) -> list[Result]:
    import psycopg

    rows, rounds = (20_000, 2) if quick else (300_000, 5)
    results: list[Result] = []
    try:
        with scratch_database(pg_admin_url()) as url:
            results += concurrent_rounds("PostgreSQL", url, rows, rounds, keep)
    except psycopg.OperationalError as exc:  # no server there
        results.append(
            Result(NAME, "PostgreSQL: no server answered; skipped", None, "", note=str(exc)[:200])
        )
    if sqlite:
        results += concurrent_rounds("SQLite", "", rows, rounds, keep)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--sqlite", action=argparse.BooleanOptionalAction, default=True, help="also on SQLite"
    )
    args = parser.parse_args()
    for r in run(args.quick, sqlite=args.sqlite):
        print(f"{r.metric}: {r.shown()} {r.unit} (target {r.target}: {r.verdict()}) {r.note}")


if __name__ == "__main__":
    main()

"""The Products page at a million products: server time of each catalog query.

    .venv/bin/python -m bench.products_scale --write      # 1,000,000 products; updates its
                                                          # own section of docs/BENCHMARKS.md
    .venv/bin/python -m bench.products_scale --quick      # 50,000, printed only
    .venv/bin/python -m bench.products_scale --cache      # keep the filled databases in
                                                          # var/bench-cache (PostgreSQL: by
                                                          # name) and reuse them next time
    (also run by `make bench` / `python -m bench.run`, in the results table there)

One owner holds N products (plus 10 % more of another owner in the same table); each query
the Products page makes — first page with its total, next page, search by a common word, by
a rare word and by SKU, each filter, each sort, a filter + search + sort, and the filter
lists — is timed in-process (the database work of one request, no browser), the median of
repeated runs after one warm-up. PostgreSQL runs when postgresql://postgres@127.0.0.1:5432
answers (JOBBOARD_BENCH_POSTGRES_URL overrides), in a throw-away database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import BENCH_CACHE, BUILT, Result, log, schema_key

NAME = "products"
TARGET_MS = 50.0
REPEAT = 7
FILL_VERSION = 1  # bump when the fill changes: cached databases of another version are rebuilt
OWNER, OTHER = "bench-products-owner", "bench-products-other"
PG_URL = os.environ.get(
    "JOBBOARD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
COLORS = "red blue green black white grey navy olive beige pink orange purple".split()  # noqa: SIM905
MATERIALS = "cotton wool linen leather steel ceramic oak bamboo glass denim silk canvas".split()  # noqa: SIM905
NOUNS = (  # noqa: SIM905
    "shirt tee hoodie jacket sock boot sneaker mug kettle pan lamp chair table wallet "
    "backpack tote belt scarf hat glove"
).split()


@dataclass
class Rec:
    key: str
    sku: str
    title: str
    vendor: str
    product_type: str
    price: float | None
    handle: str | None = None
    description: str = ""
    tags: list[str] | None = None
    options: list[dict[str, Any]] | None = None
    variants: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.tags, self.options, self.variants = [], [], []


def _records(n: int, seed: int = 7) -> Iterator[Rec]:
    rnd = random.Random(seed)
    for i in range(n):
        noun = rnd.choice(NOUNS)
        yield Rec(
            key=f"SKU-{i:07d}",
            sku=f"SKU-{i:07d}",
            title=f"{rnd.choice(COLORS).title()} {rnd.choice(MATERIALS)} {noun} {i}",
            vendor=f"Vendor {rnd.randrange(200):03d}",
            product_type=noun.title(),
            price=None if i % 50 == 0 else round(rnd.uniform(1, 500), 2),
        )


@contextmanager
def _database(url: str) -> Iterator[None]:
    from jobboard.core.db import migrate
    from jobboard.core.settings import get_settings

    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        migrate()
        yield
    finally:
        if before is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = before
        get_settings.cache_clear()


def _fill(owner: str, n: int) -> float:
    """Insert n products through the app's own upsert; returns rows/s."""
    from jobboard.core.products import upsert_products

    started = time.perf_counter()
    batch: list[Rec] = []
    for done, rec in enumerate(_records(n, seed=hash(owner) & 0xFFFF), 1):
        batch.append(rec)
        if len(batch) == 5000:
            upsert_products(owner, batch)  # type: ignore[arg-type]
            batch = []
        if done % 200_000 == 0:
            log(f"{NAME}: {done:,} of {n:,} products")
    if batch:
        upsert_products(owner, batch)  # type: ignore[arg-type]
    return n / (time.perf_counter() - started)


def _categorize(owner: str) -> None:
    """Half the catalog gets one of 20 categories (as applied AI results would)."""
    from sqlalchemy import text

    from jobboard.core.db import session_scope

    with session_scope() as session:
        session.connection().execute(
            text(
                "UPDATE product SET category = 'Category ' || (id % 20) "
                "WHERE owner_id = :o AND id % 2 = 0"
            ),
            {"o": owner},
        )


def _analyze() -> None:
    """What autovacuum does to a table after a big import (statistics, visibility map)."""
    from sqlalchemy import text

    from jobboard.core.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE product"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def _time_ms(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of this process (SQLite's work runs here, so on a
    machine busy with other work the CPU figure is the query's own cost), in ms."""
    fn()  # warm-up (page cache, plan cache)
    times, cpu = [], []
    out = None
    for _ in range(REPEAT):
        started, cpu_started = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return statistics.median(times), statistics.median(cpu), out


def _queries(owner: str) -> list[tuple[str, Callable[[], Any]]]:
    from jobboard.core.product_query import (
        ProductFilter,
        count_cap,
        facet_values,
        search_products,
    )

    def page(flt: ProductFilter, sort: str = "updated", offset: int = 0) -> Callable[[], Any]:
        return lambda: search_products(
            owner, flt, sort=sort, offset=offset, limit=25, count_cap=count_cap(flt)
        )

    none = ProductFilter()
    return [
        ("first page + total (newest first)", page(none)),
        ("next page (page 2)", page(none, offset=25)),
        ("page 40 (OFFSET 975)", page(none, offset=975)),
        ("search a common word (“kettle”, ~5 %)", page(ProductFilter(q="kettle"))),
        ("search two words (“navy linen”)", page(ProductFilter(q="navy linen"))),
        ("search a rare word (title number “123456”)", page(ProductFilter(q="123456"))),
        ("search by SKU (“SKU-0424242”)", page(ProductFilter(q="SKU-0424242"))),
        ("search a word nothing has (“zzzz”)", page(ProductFilter(q="zzzz"))),
        ("filter by vendor (~0.5 %)", page(ProductFilter(vendor="Vendor 042"))),
        ("filter by type (~5 %)", page(ProductFilter(product_type="Mug"))),
        ("filter by category (~2.5 %)", page(ProductFilter(category="Category 4"))),
        ("sort by title", page(none, sort="title")),
        ("sort by price", page(none, sort="price")),
        ("sort by price, high to low", page(none, sort="price_desc")),
        (
            "search + vendor + sort by price",
            page(ProductFilter(q="shirt", vendor="Vendor 007"), sort="price"),
        ),
        ("search common word + sort by title", page(ProductFilter(q="kettle"), sort="title")),
        (
            "filter lists (vendor, type, category)",
            lambda: [facet_values(owner, f) for f in ("vendor", "product_type", "category")],
        ),
    ]


def _measure(db: str, n: int, reuse: bool = False) -> list[Result]:
    """Fill (unless `reuse`: a cached database, filled by an earlier run) and time."""
    if reuse:
        log(f"{NAME} [{db}]: reusing the {n:,} products filled by an earlier run")
        results = [Result(NAME, f"[{db}] {n:,} products", None, "", note="cached fill reused")]
    else:
        log(f"{NAME} [{db}]: inserting {n:,} products (+{n // 10:,} of another owner)")
        rate = _fill(OWNER, n)
        _fill(OTHER, n // 10)
        _categorize(OWNER)
        _analyze()
        results = [
            Result(
                NAME,
                f"[{db}] fill through upsert_products (search index kept by the DB)",
                rate,
                "rows/s",
                note=f"{n:,} products of one owner",
            )
        ]
    from bench.cpu import wait_for_quiet

    busy = wait_for_quiet(0.5, 60)  # a quiet moment, if one comes within a minute
    results.append(
        Result(
            NAME,
            f"[{db}] machine load before the queries",
            busy,
            "cores busy",
            note=f"of {os.cpu_count()}, after waiting up to 1 min for < 0.5; 1-min load "
            f"average {os.getloadavg()[0]:.1f} (other sessions' work)",
        )
    )
    for label, fn in _queries(OWNER):
        ms, cpu, out = _time_ms(fn)
        total = out[1] if isinstance(out, tuple) else None
        notes = [f"{total:,} matching" if total is not None and total >= 0 else ""]
        if db == "SQLite":
            notes.append(f"CPU {cpu:.1f} ms")
        results.append(
            Result(
                NAME,
                f"[{db}] {label}",
                ms,
                "ms",
                target=f"≤ {TARGET_MS:.0f} ms",
                met=ms <= TARGET_MS,
                note="; ".join(n for n in notes if n),
            )
        )
        log(f"{NAME} [{db}]: {label}: {ms:.1f} ms (CPU here {cpu:.1f} ms)")
    return results


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def run(quick: bool = False, keep: bool = False, cache: Path | None = None) -> list[Result]:
    """`cache`: keep the filled databases (SQLite file there, PostgreSQL database by name)
    and reuse them on the next run with the same size and schema."""
    n = 50_000 if quick else 1_000_000
    key = f"{n}_{schema_key(FILL_VERSION)}"
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-products-") as tmp:
        os.environ["JOBBOARD_VAR_DIR"] = tmp
        path = (cache or Path(tmp)) / f"products-{key}.db"
        marker = path.with_suffix(".built")
        reuse = cache is not None and path.exists() and marker.exists()
        if not reuse:  # an interrupted fill is not measured: start again
            for stale in (path, marker, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
        with _database(f"sqlite:///{path}"):
            results += _measure("SQLite", n, reuse)
        marker.write_text(BUILT + "\n")
        if _pg_available():
            results += _run_pg(n, key, keep, cache)
        else:
            results.append(
                Result(NAME, "[PostgreSQL] not measured", None, "", note=f"{PG_URL} did not answer")
            )
    return results


def _run_pg(n: int, key: str, keep: bool, cache: Path | None) -> list[Result]:
    import psycopg

    from jobboard.core.db import _engine_for
    from jobboard.core.settings import normalize_database_url

    name = f"jobboard_bench_products_{key}" if cache else f"jobboard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        found = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        reuse = cache is not None and found is not None and found[0] == BUILT
        if found and not reuse:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not reuse:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = normalize_database_url(PG_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        with _database(url):
            results = _measure("PostgreSQL", n, reuse)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{BUILT}'")
    finally:
        _engine_for(url).dispose()
        if not keep and cache is None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


START = "<!-- bench:products:start (generated by `python -m bench.products_scale --write`) -->"
END = "<!-- bench:products:end -->"


def _markdown(results: list[Result], command: str, n: int) -> str:
    from datetime import UTC, datetime

    from bench.common import machine_info

    machine = machine_info()
    out = [
        START,
        "## Products at a million",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} by `{command}`: {n:,} products of "
        f"one owner (+{n // 10:,} of another) in one table; server time of each query the "
        "Products page makes (median of 7 after a warm-up, in-process: database work only; for "
        "SQLite the note also gives the median CPU time of the process, the query's own cost "
        "when other work shares the cores). "
        "Totals are counted as the page counts them: up to 10,000, with search words up to 1,000 "
        "(“more than …” beyond). "
        f"Machine: {machine['cpu']}, {machine['nproc']} cores (shared with other work), "
        f"commit {machine['git commit']}.",
        "",
        "| query | median | target | verdict | note |",
        "|---|---:|---|---|---|",
    ]
    for r in results:
        verdict = {True: "✅ met", False: "❌ not met", None: ""}[r.met]
        out.append(f"| {r.metric} | {r.shown()} {r.unit} | {r.target} | {verdict} | {r.note} |")
    out.append(END)
    return "\n".join(out)


def write_section(results: list[Result], command: str, n: int) -> Path:
    from bench.report import DOC

    text = DOC.read_text(encoding="utf-8")
    section = _markdown(results, command, n)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
    return DOC


def main(argv: list[str] | None = None) -> int:
    from bench.report import console_table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 products")
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument(
        "--cache",
        type=Path,
        nargs="?",
        const=BENCH_CACHE,
        help=f"keep the filled databases and reuse them next time (default dir {BENCH_CACHE})",
    )
    args = parser.parse_args(argv)
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    results = run(args.quick, cache=args.cache)
    print(console_table(results))
    if args.write:
        command = ".venv/bin/python -m bench.products_scale " + " ".join(sys.argv[1:])
        log(f"wrote {write_section(results, command, 50_000 if args.quick else 1_000_000)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rows per second of a generic-CSV product upload through the real path.

`submit("product_upload")` → RQ queue → `python -m workers` (forked work horse) → parser →
batched upserts into SQLite; rows/s = rows / (completed_at - started_at) of the job's DB row.
The same file is uploaded twice: the first run inserts every row, the second updates them.

Run alone: `python -m bench.upload_throughput [--quick] [--profile]`; `--profile` also runs
`workers.product_upload.import_products` in-process under cProfile and prints the hot spots.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import random
import time
from datetime import datetime
from pathlib import Path

from bench.common import Result, log, private_stack
from bench.cpu import CpuMeter, descendants

NAME = "upload"
TARGET_ROWS_PER_S = 20_000

_ADJECTIVES = [
    "Classic",
    "Organic",
    "Premium",
    "Vintage",
    "Slim",
    "Rugged",
    "Compact",
    "Deluxe",
    "Eco",
    "Handmade",
    "Lightweight",
    "Waterproof",
    "Ergonomic",
    "Wireless",
    "Heavy-Duty",
    "Minimalist",
    "Cozy",
    "Bamboo",
    "Stainless",
    "Recycled",
]
_NOUNS = [
    "Backpack",
    "Mug",
    "Lamp",
    "Desk",
    "Chair",
    "Notebook",
    "Jacket",
    "Sneakers",
    "Kettle",
    "Blender",
    "Headphones",
    "Wallet",
    "Scarf",
    "Candle",
    "Blanket",
    "Bottle",
    "Tent",
    "Helmet",
    "Watch",
    "Planter",
    "Speaker",
    "Keyboard",
    "Pillow",
    "Umbrella",
]
_COLORS = [
    "Black",
    "White",
    "Navy",
    "Olive",
    "Sand",
    "Crimson",
    "Teal",
    "Charcoal",
    "Ivory",
    "Mustard",
]
_VENDORS = (
    "Acme Co",
    "Northwind Traders",
    "Globex",
    "Initech",
    "Umbrella Goods",
    "Stark Supply",
    "Wayne Outfitters",
    "Hooli Home",
    "Müller & Söhne",
    "Café Crème SARL",
)
_TYPES = "Bags Kitchen Lighting Furniture Stationery Apparel Footwear Electronics Outdoor Home"
_TAGS = [
    "new",
    "sale",
    "bestseller",
    "gift",
    "eco",
    "summer",
    "winter",
    "limited",
    "bundle",
    "clearance",
    "premium",
    "handmade",
    "vegan",
    "organic",
    "travel",
    "office",
    "kids",
    "outdoor",
]
_SENTENCES = (
    "Made from durable materials that last for years.",
    "Designed in Berlin, assembled with care.",
    "Perfect for everyday use at home or in the office.",
    'Comes with a 2-year warranty, "no questions asked".',
    "Machine washable at 30 °C; do not tumble dry.",
    "Ships in plastic-free, recyclable packaging.",
    "Each piece is unique, so colours may vary slightly.",
    "Pairs well with the rest of the collection.",
)


def make_csv(path: Path, rows: int, seed: int = 42, prefix: str = "SKU", sentences: int = 3) -> int:
    """Write a generic product CSV (sku,title,description,price,vendor,type,tags); each
    description has 1 to `sentences` sentences."""
    rng = random.Random(seed)
    types = _TYPES.split()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["sku", "title", "description", "price", "vendor", "type", "tags"])
    for i in range(rows):
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} – {rng.choice(_COLORS)}"
        description = " ".join(rng.sample(_SENTENCES, rng.randint(1, sentences)))
        price = f"{rng.uniform(2, 500):.2f}"
        tags = ", ".join(rng.sample(_TAGS, rng.randint(0, 4)))
        writer.writerow(
            [
                f"{prefix}-{i:07d}",
                title,
                description,
                price,
                rng.choice(_VENDORS),
                rng.choice(types),
                tags,
            ]
        )
    data = buf.getvalue().encode("utf-8")
    path.write_bytes(data)
    return len(data)


def _wait_done(job_id: str, owner: str, timeout: float, poll: float = 0.05) -> dict:
    """The job once it ended; `poll` apart (rates come from its DB timestamps, not this)."""
    from jobboard.core.jobs import get_job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get_job(job_id, owner)
        if job and job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(poll)
    raise TimeoutError(f"upload job {job_id} did not finish within {timeout:.0f} s")


def _upload(csv_path: Path, rows: int, label: str) -> tuple[float, dict]:
    from jobboard.core import jobs
    from jobboard.core.settings import get_settings

    owner = get_settings().local_user
    job = jobs.submit(
        "product_upload",
        owner_id=owner,
        title=f"bench upload ({label})",
        params={"path": str(csv_path), "filename": "bench.csv"},
    )
    done = _wait_done(job.id, owner, timeout=1800)
    if done["status"] != "completed":
        raise RuntimeError(f"upload job ended {done['status']}: {done.get('error_data')}")
    started = datetime.fromisoformat(done["started_at"])
    completed = datetime.fromisoformat(done["completed_at"])
    seconds = (completed - started).total_seconds()
    return rows / seconds, done["result_data"] or {}


def _stack_groups(stack) -> dict:
    def worker_pids() -> set[int]:  # the work horse is forked per job: look again each time
        found: set[int] = set()
        for proc in stack.worker_procs:
            found |= descendants(proc.pid)
        return found

    groups = {"RQ worker": worker_pids, "bench process": lambda: {os.getpid()}}
    redis_pid = stack.redis.process.pid if stack.redis and stack.redis.process else None
    groups["Redis"] = lambda: {redis_pid} if redis_pid else set()
    return groups


def run(quick: bool = False, keep: bool = False) -> list[Result]:
    rows = 10_000 if quick else 100_000
    results: list[Result] = []
    with private_stack(NAME, workers=1, app=False, keep=keep) as (stack, var_dir):
        csv_path = var_dir / "bench.csv"
        size = make_csv(csv_path, rows)
        # The same SKUs with other titles, prices, …: every row of it changes a product.
        changed_path = var_dir / "bench-changed.csv"
        make_csv(changed_path, rows, seed=43)
        log(f"{NAME}: {rows:,}-row CSV, {size / 1e6:.1f} MB")
        for label, path, expect in (
            ("first run, inserts", csv_path, "imported"),
            ("same file again, unchanged", csv_path, "unchanged"),
            ("every row changed, updates", changed_path, "updated"),
        ):
            log(f"{NAME}: uploading ({label})")
            meter = CpuMeter(_stack_groups(stack))
            meter.start()
            t0 = time.perf_counter()
            rate, result = _upload(path, rows, label)
            wall = time.perf_counter() - t0
            cpu = meter.stop()
            if result.get(expect) != rows:
                raise RuntimeError(f"expected {rows} {expect}, got {result}")
            results.append(
                Result(
                    NAME,
                    f"{rows:,}-row generic CSV, {label}",
                    rate,
                    "rows/s",
                    target=f"≥ {TARGET_ROWS_PER_S:,}",
                    met=rate >= TARGET_ROWS_PER_S,
                    note=(
                        f"{rows / rate:.2f} s started→completed, {size / 1e6:.1f} MB file; "
                        f"cores busy: worker {cpu['RQ worker'] / wall:.2f}, Redis "
                        f"{cpu['Redis'] / wall:.2f}, other processes on the machine "
                        f"{cpu[CpuMeter.OTHER] / wall:.2f}"
                    ),
                )
            )
    return results


def profile(quick: bool = False, top: int = 25, keep: bool = False) -> pstats.Stats:
    """cProfile of import_products in this process (insert run, then update run)."""
    from jobboard.core import jobs
    from jobboard.core.progress import ProgressReporter
    from jobboard.core.settings import get_settings
    from workers.product_upload import import_products

    rows = 10_000 if quick else 100_000
    with private_stack(f"{NAME}-profile", workers=0, app=False, keep=keep) as (_s, var_dir):
        csv_path = var_dir / "bench.csv"
        make_csv(csv_path, rows)
        owner = get_settings().local_user
        for label in ("insert", "update"):
            job = jobs.submit(
                "product_upload",
                owner_id=owner,
                title=f"bench profile {label}",
                params={"path": str(csv_path), "filename": "bench.csv"},
            )
            started = jobs.start(job.id)
            assert started is not None
            reporter = ProgressReporter(started)
            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.runcall(import_products, started, reporter)
            elapsed = time.perf_counter() - t0
            reporter.close()
            print(
                f"\n=== import_products, {label} run: {rows / elapsed:,.0f} rows/s under cProfile"
            )
            stats = pstats.Stats(prof).strip_dirs().sort_stats("cumulative")
            stats.print_stats(top)
            stats.sort_stats("tottime").print_stats(top)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also cProfile in-process")
    args = parser.parse_args()
    for r in run(args.quick):
        print(f"{r.metric}: {r.shown()} {r.unit} (target {r.target}: {r.verdict()}) {r.note}")
    if args.profile:
        profile(args.quick)


if __name__ == "__main__":
    main()

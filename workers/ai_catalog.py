"""Offline AI jobs on the catalog: find duplicates, auto-categorize, match an uploaded file.

All three run on WordLlama embeddings (``workers.embeddings``), with no network and no
provider. Nothing here writes to the catalog: results list what was found, and the job page
applies them when the user asks.

Decisions worth knowing:

* **What is compared.** Duplicates and file matching compare casefolded titles only
  (``identity_text``): descriptions, tags and vendors of the same product differ between
  sources and pull the similarity of true duplicates down more than that of unrelated
  products. Categorizing compares the fuller ``product_text`` (title, vendor, type, tags,
  start of the description) with the plain category names, which beat phrasings such as
  "a product in the category X" on a hand-labelled sample.
* **Progress.** ``processed``/``total`` count in the unit of the step shown (products
  embedded, then products compared; rows read, catalog products embedded, rows matched),
  with ``unit`` naming it; the ``percentage`` (and so the ETA) models the whole job, steps
  weighted by their expected cost, and only moves forward. Step texts carry the numbers
  ("Embedding products 512 of 1,200"), as templates with values so that every page writes
  them in its viewer's locale (``jobboard.core.steps``), and change at most every
  ``STEP_EVERY`` seconds, since each new step text is published at once.
* **find_duplicates** finds pairs with a blocked, upper-triangle matrix product (a few
  hundred rows at a time, so 50,000 products need ~100 MB at most) and joins them into
  groups with a vectorised union-find. Products with the same normalised title or the
  same SKU are duplicates with score 1.0 whatever their embeddings say. A group's score is
  its strongest pair. Groups are chains: A~B and B~C put A, B, C together.
* **auto_match** matches each file item (a product; a Shopify product spans several rows)
  by SKU first (the product's SKU or any of its variant SKUs, casefolded and trimmed),
  then by title. Parser row errors count as unmatched, with the parser's ``reason``, so
  ``matched_count + ambiguous_count + unmatched_count == rows``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jobboard.core import jobs
from jobboard.core.models import Job, Product
from jobboard.core.products import get_products
from jobboard.core.progress import ProgressReporter
from jobboard.core.settings import get_settings
from workers import embeddings
from workers.common import product_ids, scope_words, scoped_catalog
from workers.parsers import FileRejected, ProductRecord, RowError, parse_products

DEFAULT_THRESHOLD = 0.88
MIN_THRESHOLD = 0.5
MAX_GROUPS = 500
MAX_GROUP_PRODUCTS = 50  # products listed per group; "size" says how many it has
BLOCK_ELEMENTS = 8_000_000  # similarity cells per block (32 MB of float32)
MAX_BLOCK_ROWS = 1024

MIN_CATEGORIES, MAX_CATEGORIES = 2, 50
MAX_CATEGORY_CHARS = 100
TEMPERATURE = 0.05
MAX_ASSIGNMENTS = 5000

MATCH_SCORE = 0.85
MATCH_MARGIN = 0.03
AMBIGUOUS_SCORE = 0.70
CANDIDATES = 3
MAX_LISTED = 1000

STEP_EVERY = 0.5  # seconds between step texts with running numbers
ID_CHUNK = 5000  # product ids per query (SQLite caps bound parameters)

_WORD_RE = re.compile(r"\w+")


# --------------------------------------------------------------------------- #
# RQ entry points
# --------------------------------------------------------------------------- #


def find_duplicates(job_id: str) -> dict[str, Any]:
    """RQ entry point."""
    return jobs.run(job_id, _find_duplicates)


def auto_categorize(job_id: str) -> dict[str, Any]:
    """RQ entry point."""
    return jobs.run(job_id, _auto_categorize)


def auto_match(job_id: str) -> dict[str, Any]:
    """RQ entry point."""
    return jobs.run(job_id, _auto_match)


# --------------------------------------------------------------------------- #
# Shared helpers
# --------------------------------------------------------------------------- #


class _Steps:
    """Progress with step texts that carry numbers, sent at most every STEP_EVERY seconds.

    A step with numbers is a template and its values ("Embedding {n} products", {"n": 617}):
    the pages write the numbers in their viewer's locale (`jobboard.core.steps`)."""

    def __init__(self, progress: ProgressReporter) -> None:
        self.progress = progress
        self._last = float("-inf")

    def phase(self, step: str, step_values: dict[str, Any] | None = None, **values: Any) -> None:
        """A new phase: its step text goes out at once."""
        self.progress.update(step=step, step_values=step_values, **values)
        self._last = time.monotonic()

    def tick(self, step: str, step_values: dict[str, Any], **values: Any) -> None:
        """Running numbers: always record them, refresh the step text now and then."""
        now = time.monotonic()
        if now - self._last >= STEP_EVERY:
            self._last = now
            self.progress.update(step=step, step_values=step_values, **values)
        else:
            self.progress.update(**values)


def _n(value: int) -> str:
    return f"{value:,}"


def identity_text(value: str | None) -> str:
    """What duplicates and file rows are compared by: the plain, casefolded title."""
    return embeddings.clean_text(value).casefold()


def normalized_title(value: str | None) -> str:
    """Titles equal under this are the same product: "Blue T-Shirt!" == "blue t shirt"."""
    return " ".join(_WORD_RE.findall(embeddings.clean_text(value).casefold()))


def normalized_sku(value: Any) -> str:
    return str(value).strip().casefold() if value is not None else ""


def _product_ids(params: dict[str, Any]) -> list[int] | None:
    """The selected ids, or None for the whole catalog."""
    raw = params.get("product_ids")
    if raw is None:
        return None
    return product_ids(raw, empty_message="no products were selected")


def _load_products(owner_id: str, ids: list[int] | None, params: dict[str, Any]) -> list[Product]:
    if ids is None:
        return scoped_catalog(owner_id, params)
    found: list[Product] = []
    for start in range(0, len(ids), ID_CHUNK):
        found.extend(get_products(owner_id, ids[start : start + ID_CHUNK]))
    found.sort(key=lambda p: p.id or 0)
    return found


def _catalog(
    job: Job, steps: _Steps, ids: list[int] | None, *, minimum: int, verb: str
) -> list[Product]:
    steps.phase("Loading products")
    products = _load_products(job.owner_id, ids, job.params)
    where = scope_words(job.params)
    if not products:
        if ids is None and where:
            raise jobs.JobError(f"no products{where}: nothing to {verb}")
        if ids is None:
            raise jobs.JobError(f"the catalog has no products to {verb}")
        raise jobs.JobError("none of the selected products are in the catalog any more")
    if len(products) < minimum:
        have = f"{len(products)} product{'' if len(products) == 1 else 's'}"
        if ids is None:
            raise jobs.JobError(
                f"{'only ' + have + where if where else 'the catalog has only ' + have}; "
                f"at least {minimum} are needed to {verb}"
            )
        raise jobs.JobError(
            f"select at least {minimum} products to {verb}; the selection has {have}"
        )
    return products


def _embed_with_progress(
    texts: Sequence[str], steps: _Steps, label: str, window: tuple[float, float]
) -> np.ndarray:
    """Embed, reporting "<label> 512 of 1,200" with processed/total in the step's own unit
    and the whole job's percentage moving across `window`. `label` is a plain text."""
    count = len(texts)
    start, end = window

    def on_batch(done: int, _: int) -> None:
        steps.tick(
            f"{label} {{done}} of {{total}}",
            {"done": done, "total": count},
            processed=done,
            percentage=start + (end - start) * done / max(1, count),
        )

    vectors = embeddings.embed(list(texts), on_batch=on_batch)
    steps.progress.update(processed=count, percentage=end)
    return vectors


def _embed_share(n: int) -> float:
    """The share of a duplicate search spent embedding: embedding grows with n, comparing
    with n² (every pair); about even at 50,000 products on the machines measured."""
    return 1.0 / (1.0 + n / 50_000)


def _load_model(steps: _Steps) -> None:
    steps.phase("Loading the model")
    try:
        embeddings.get_model()
    except FileNotFoundError as exc:  # a broken install, not the user's doing
        raise jobs.JobError(f"the embedding model is not installed correctly: {exc}") from exc


def _block_rows(n: int) -> int:
    return max(128, min(MAX_BLOCK_ROWS, BLOCK_ELEMENTS // max(1, n)))


# --------------------------------------------------------------------------- #
# find_duplicates
# --------------------------------------------------------------------------- #


def similar_pairs(
    vectors: np.ndarray, threshold: float, block_rows: int | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Pairs i < j with cosine >= threshold, one block of rows at a time.

    Yields ``(rows_done, i, j, score)``; only the upper triangle is computed, so a block
    starting at row s multiplies its rows with rows s.. only.
    """
    n = len(vectors)
    rows = block_rows or _block_rows(n)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        sims = vectors[start:stop] @ vectors[start:].T
        size = stop - start
        sims[np.tril_indices(size)] = -2.0  # self and pairs seen from the other side
        ii, cc = np.nonzero(sims >= threshold)
        yield stop, ii + start, cc + start, np.minimum(sims[ii, cc], 1.0)


class UnionFind:
    """Vectorised union-find over 0..n-1 that also keeps each node's best pair score."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)
        self.best = np.zeros(n, dtype=np.float32)

    def add(self, i: np.ndarray, j: np.ndarray, score: np.ndarray | float) -> None:
        if len(i) == 0:
            return
        score = np.broadcast_to(np.asarray(score, dtype=np.float32), i.shape)
        np.maximum.at(self.best, i, score)
        np.maximum.at(self.best, j, score)
        parent = self.parent  # invariant: every node points straight at its root
        while True:
            a, b = parent[i], parent[j]
            differ = a != b
            if not differ.any():
                break
            i, j, a, b = i[differ], j[differ], a[differ], b[differ]
            # Hook the larger root under the smaller: labels only decrease, so no cycles.
            np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))
            while True:  # pointer jumping until every node points at a root again
                jumped = parent[parent]
                if np.array_equal(jumped, parent):
                    break
                parent = jumped
        self.parent = parent

    def groups(self) -> list[np.ndarray]:
        """Groups of two or more members, each as sorted member indices."""
        order = np.argsort(self.parent, kind="stable")
        roots = self.parent[order]
        cuts = np.flatnonzero(np.diff(roots)) + 1
        return [g for g in np.split(order, cuts) if len(g) > 1]


def _exact_edges(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining items with the same non-empty key (each to the first of its key)."""
    first: dict[str, int] = {}
    i: list[int] = []
    j: list[int] = []
    for index, key in enumerate(keys):
        if not key:
            continue
        seen = first.setdefault(key, index)
        if seen != index:
            i.append(seen)
            j.append(index)
    return np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)


def duplicate_groups(
    vectors: np.ndarray,
    threshold: float,
    *,
    titles: Sequence[str] = (),
    skus: Sequence[str] = (),
    on_block: Callable[[float], Any] | None = None,
) -> list[tuple[float, np.ndarray]]:
    """(score, member indices) per group, strongest first; exact title/SKU twins score 1."""
    n = len(vectors)
    found = UnionFind(n)
    for keys in (titles, skus):
        if keys:
            i, j = _exact_edges(keys)
            found.add(i, j, 1.0)
    total_pairs = n * (n - 1) / 2 or 1
    for stop, i, j, score in similar_pairs(vectors, threshold):
        found.add(i.astype(np.int64), j.astype(np.int64), score)
        if on_block is not None:
            remaining = n - stop
            on_block(1.0 - remaining * (remaining - 1) / 2 / total_pairs)
    scored = [(float(found.best[g].max()), g) for g in found.groups()]
    scored.sort(key=lambda item: (-item[0], -len(item[1]), int(item[1][0])))
    return scored


def _threshold(params: dict[str, Any]) -> float:
    raw = params.get("threshold")
    if raw is None:
        return DEFAULT_THRESHOLD
    if isinstance(raw, bool):
        raw = "?"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not MIN_THRESHOLD <= value <= 1.0:  # NaN fails too
        raise jobs.JobError(
            f"the similarity threshold must be a number from {MIN_THRESHOLD} to 1; got {raw!r}"
        )
    return value


def _find_duplicates(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    steps = _Steps(progress)
    threshold = _threshold(job.params)
    products = _catalog(job, steps, _product_ids(job.params), minimum=2, verb="compare")
    n = len(products)
    _load_model(steps)
    # Each step counts in its own unit (products embedded, then products compared); the
    # percentage and the ETA model the whole job, steps weighted by their expected cost.
    embedded = 95.0 * _embed_share(n)
    steps.phase(
        "Embedding {n} products", {"n": n}, processed=0, total=n, percentage=0, unit="products"
    )
    vectors = _embed_with_progress(
        [identity_text(p.title) for p in products], steps, "Embedding products", (0, embedded)
    )
    steps.phase("Comparing products", processed=0, total=n, percentage=embedded)

    def on_block(fraction: float) -> None:
        done = round(fraction * n)
        steps.tick(
            "Comparing products {done} of {total}",
            {"done": done, "total": n},
            processed=done,
            percentage=embedded + (95.0 - embedded) * fraction,
        )

    found = duplicate_groups(
        vectors,
        threshold,
        titles=[normalized_title(p.title) for p in products],
        skus=[normalized_sku(p.sku) for p in products],
        on_block=on_block,
    )
    steps.phase("Grouping duplicates", processed=n, total=n, percentage=95.0)
    groups = [
        {
            "score": round(score, 3),
            "size": len(members),
            "products": [
                {
                    "id": products[k].id,
                    "title": products[k].title,
                    "sku": products[k].sku,
                    "vendor": products[k].vendor,
                }
                for k in members[:MAX_GROUP_PRODUCTS]
            ],
        }
        for score, members in found[:MAX_GROUPS]
    ]
    return {
        "compared": n,
        "threshold": threshold,
        "groups": groups,
        "groups_total": len(found),
        "duplicates_total": sum(len(members) for _, members in found),
    }


# --------------------------------------------------------------------------- #
# auto_categorize
# --------------------------------------------------------------------------- #


def _categories(params: dict[str, Any]) -> list[str]:
    raw = params.get("categories")
    if isinstance(raw, str):  # one per line or comma-separated, as typed
        raw = re.split(r"[\n,;]", raw)
    if not isinstance(raw, list):
        raise jobs.JobError("enter the categories to choose from, at least two")
    names: dict[str, str] = {}
    for value in raw:
        if not isinstance(value, str):
            raise jobs.JobError(f"{value!r} is not a category name")
        name = " ".join(value.split())
        if not name:
            continue  # blank lines in what was typed
        if len(name) > MAX_CATEGORY_CHARS:
            raise jobs.JobError(
                f"category names can be at most {MAX_CATEGORY_CHARS} characters; "
                f"{name[:30]!r}… is {len(name)}"
            )
        names.setdefault(name.casefold(), name)
    categories = list(names.values())
    if len(categories) < MIN_CATEGORIES:
        raise jobs.JobError(
            f"enter at least {MIN_CATEGORIES} different categories to choose from; "
            f"got {len(categories)}"
        )
    if len(categories) > MAX_CATEGORIES:
        raise jobs.JobError(
            f"at most {MAX_CATEGORIES} categories can be used at once; got {len(categories)}"
        )
    return categories


def softmax_confidence(sims: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
    """Per row: the softmax weight of the best column, similarities scaled by 1/temperature."""
    scaled = (sims - sims.max(axis=1, keepdims=True)) / temperature
    weights = np.exp(scaled)
    return 1.0 / weights.sum(axis=1)  # the best column's weight is exp(0) = 1


def _auto_categorize(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    steps = _Steps(progress)
    categories = _categories(job.params)
    products = _catalog(job, steps, _product_ids(job.params), minimum=1, verb="categorize")
    n = len(products)
    _load_model(steps)
    category_vectors = embeddings.embed(categories)
    steps.phase(
        "Embedding {n} products", {"n": n}, processed=0, total=n, percentage=0, unit="products"
    )
    vectors = _embed_with_progress(
        [embeddings.product_text(p) for p in products], steps, "Embedding products", (0, 95.0)
    )
    steps.phase("Assigning categories", processed=n, percentage=95.0)
    sims = vectors @ category_vectors.T
    best = sims.argmax(axis=1)
    confidence = softmax_confidence(sims)
    counts = {name: 0 for name in categories}
    for index in best:
        counts[categories[index]] += 1
    assignments = [
        {
            "product_id": p.id,
            "title": p.title,
            "category": categories[best[k]],
            "confidence": round(float(confidence[k]), 3),
        }
        for k, p in enumerate(products[:MAX_ASSIGNMENTS])
    ]
    result: dict[str, Any] = {
        "categories": categories,
        "compared": n,
        "assignments": assignments,
        "counts": counts,
    }
    if n > MAX_ASSIGNMENTS:
        result["note"] = (
            f"assignments are listed for the first {_n(MAX_ASSIGNMENTS)} of {_n(n)} products; "
            "the counts cover all of them"
        )
    return result


# --------------------------------------------------------------------------- #
# auto_match
# --------------------------------------------------------------------------- #


def _read_upload(params: dict[str, Any]) -> tuple[str, bytes]:
    raw_path = params.get("path")
    if not isinstance(raw_path, str) or not raw_path:
        raise jobs.JobError("no file was given to match")
    path = Path(raw_path)
    filename = str(params.get("filename") or path.name)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise jobs.JobError(f"the uploaded file {filename} is no longer on the server") from None
    limit = get_settings().max_upload_bytes
    if len(data) > limit:
        raise jobs.JobError(
            f"{filename} is {len(data) / 1048576:.1f} MB; the limit is {limit // 1048576} MB"
        )
    return filename, data


def _sku_index(products: Iterable[Product]) -> dict[str, Product]:
    """Casefolded SKU -> product; product SKUs win over variant SKUs, older over newer."""
    index: dict[str, Product] = {}
    for p in products:
        key = normalized_sku(p.sku)
        if key:
            index.setdefault(key, p)
    for p in products:
        for variant in p.variants or []:
            key = normalized_sku(variant.get("sku")) if isinstance(variant, dict) else ""
            if key:
                index.setdefault(key, p)
    return index


def _record_skus(record: ProductRecord) -> list[str]:
    skus = [normalized_sku(record.sku)]
    skus += [normalized_sku(v.get("sku")) for v in record.variants or [] if isinstance(v, dict)]
    return [s for s in dict.fromkeys(skus) if s]


def top_matches(
    queries: np.ndarray, catalog: np.ndarray, k: int = CANDIDATES
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row: the k best catalog indices and their scores, best first (blocked)."""
    n, m = len(queries), len(catalog)
    k = min(k, m)
    indices = np.zeros((n, k), dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    rows = _block_rows(m)
    for start in range(0, n, rows):
        sims = queries[start : start + rows] @ catalog.T
        if k < m:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(m), (len(sims), m)).copy()
        part_scores = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        indices[start : start + rows] = np.take_along_axis(part, order, axis=1)
        scores[start : start + rows] = np.take_along_axis(part_scores, order, axis=1)
    return indices, np.minimum(scores, 1.0)


def _auto_match(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    steps = _Steps(progress)
    steps.phase("Reading the file")
    filename, data = _read_upload(job.params)
    try:
        parsed = parse_products(data, filename)
    except FileRejected as exc:
        raise jobs.JobError(str(exc)) from None
    steps.phase("Loading the catalog")
    catalog = scoped_catalog(job.owner_id, job.params)  # the scope the user chose
    if not catalog:
        where = scope_words(job.params)
        raise jobs.JobError(
            f"no products{where} to match the file against"
            if where
            else "the catalog has no products to match the file against"
        )
    c, r = len(catalog), parsed.total_rows
    by_sku = _sku_index(catalog)

    matched: list[dict[str, Any]] = []
    ambiguous: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    counts = dict.fromkeys(("matched", "ambiguous", "unmatched"), 0)

    def keep(kind: str, target: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        counts[kind] += 1
        target.append(entry)  # all kept until sorted by row; capped at the end

    # Phase 1, reading: SKU matches and parser errors are settled here; the rest waits.
    # Steps count in their own units (rows read, catalog products embedded, rows matched);
    # the percentage models the whole job. Reading is cheap next to embedding.
    steps.phase("Reading rows", processed=0, total=r, percentage=0, unit="rows")
    pending: list[ProductRecord] = []
    rows_read = items = 0
    try:
        for item in parsed.items:
            rows_read += item.rows
            items += 1
            if isinstance(item, RowError):
                keep(
                    "unmatched",
                    unmatched,
                    {"row": item.row, "sku": None, "title": None, "reason": item.reason},
                )
            else:
                hit = next((by_sku[s] for s in _record_skus(item) if s in by_sku), None)
                if hit is None:
                    pending.append(item)
                else:
                    keep(
                        "matched",
                        matched,
                        {
                            "row": item.first_row,
                            "sku": item.sku,
                            "title": item.title,
                            "product_id": hit.id,
                            "product_title": hit.title,
                            "method": "sku",
                            "score": 1.0,
                        },
                    )
            progress.update(processed=rows_read, percentage=5.0 * rows_read / max(1, r))
    except FileRejected as exc:
        raise jobs.JobError(str(exc)) from None
    p = len(pending)
    progress.update(processed=r, percentage=5.0)

    if pending:
        _load_model(steps)
        # Embedding cost is per text: the catalog's share against the pending rows'.
        split = 5.0 + 90.0 * c / (c + p)
        steps.phase(
            "Embedding the catalog ({n} products)",
            {"n": c},
            processed=0,
            total=c,
            unit="products",
        )
        catalog_vectors = _embed_with_progress(
            [identity_text(x.title) for x in catalog], steps, "Embedding the catalog", (5.0, split)
        )
        steps.phase("Matching {n} rows by title", {"n": p}, processed=0, total=p, unit="rows")
        row_vectors = _embed_with_progress(
            [identity_text(x.title) for x in pending], steps, "Matching rows", (split, 95.0)
        )
        best, scores = top_matches(row_vectors, catalog_vectors)
        for k, record in enumerate(pending):
            entry = {"row": record.first_row, "sku": record.sku, "title": record.title}
            top = float(scores[k, 0])
            second = float(scores[k, 1]) if scores.shape[1] > 1 else -1.0
            if top >= MATCH_SCORE and top - second >= MATCH_MARGIN:
                product = catalog[best[k, 0]]
                entry |= {
                    "product_id": product.id,
                    "product_title": product.title,
                    "method": "semantic",
                    "score": round(top, 3),
                }
                keep("matched", matched, entry)
            elif top >= AMBIGUOUS_SCORE:
                entry["candidates"] = [
                    {
                        "product_id": catalog[index].id,
                        "title": catalog[index].title,
                        "score": round(float(score), 3),
                    }
                    for index, score in zip(best[k], scores[k], strict=True)
                ]
                keep("ambiguous", ambiguous, entry)
            else:
                entry["reason"] = f"no product with a similar title (closest {top:.2f})"
                keep("unmatched", unmatched, entry)
    # The job's count is what it matched: the file's rows, not the catalog's size.
    steps.phase("Finishing", processed=r, total=r, unit="rows", percentage=95.0)
    for listed in (matched, ambiguous, unmatched):
        listed.sort(key=lambda e: e["row"])
        del listed[MAX_LISTED:]
    return {
        "filename": filename,
        "format": parsed.format,
        "rows": items,
        "file_rows": r,
        "catalog_products": c,
        "matched_count": counts["matched"],
        "ambiguous_count": counts["ambiguous"],
        "unmatched_count": counts["unmatched"],
        "matched": matched,
        "ambiguous": ambiguous,
        "unmatched": unmatched,
    }

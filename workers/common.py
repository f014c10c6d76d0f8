"""Helpers every job module needs."""

from __future__ import annotations

from typing import Any

from jobboard.core import jobs
from jobboard.core.models import Product
from jobboard.core.product_query import BadFilter, ProductFilter, matching_products, parse_filter
from jobboard.core.products import get_products

ID_CHUNK = 5000  # product ids per query (SQLite caps bound parameters)


def product_ids(raw: Any, *, empty_message: str) -> list[int]:
    """Validated, de-duplicated product ids from a job's params (a user-facing error if not)."""
    if not isinstance(raw, list):
        raise jobs.JobError("product_ids must be a list of product ids")
    if not raw:
        raise jobs.JobError(empty_message)
    ids: list[int] = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise jobs.JobError(f"{value!r} is not a product id")
        try:
            ids.append(int(value))
        except ValueError:
            raise jobs.JobError(f"{value!r} is not a product id") from None
    return list(dict.fromkeys(ids))


def with_partial(exc: Exception, result: dict[str, Any]) -> Exception:
    """Attach what was already done, so a failed or cancelled job still says it."""
    exc.partial_result = result  # type: ignore[attr-defined]
    return exc


def scope_filter(params: dict[str, Any]) -> ProductFilter | None:
    """The job's product filter (search + vendor / type / category), or None for none."""
    try:
        flt = parse_filter(params.get("filter"))
    except BadFilter as exc:
        raise jobs.JobError(str(exc)) from None
    return None if flt.empty else flt


def scoped_catalog(owner_id: str, params: dict[str, Any]) -> list[Product]:
    """The job's products, oldest first: its `product_ids`, else what its filter matches (the
    whole catalog without one).

    Resolved here, for the job's owner, when the job runs: the filter is what the user chose
    ("all 617 matching"), not a list of ids from the browser.
    """
    raw = params.get("product_ids")
    if raw is not None:
        ids = product_ids(raw, empty_message="no products were selected")
        found = [
            p
            for n in range(0, len(ids), ID_CHUNK)
            for p in get_products(owner_id, ids[n : n + ID_CHUNK])
        ]
        return sorted(found, key=lambda p: p.id or 0)
    flt = scope_filter(params)
    return get_products(owner_id) if flt is None else list(matching_products(owner_id, flt))


def scope_words(params: dict[str, Any]) -> str:
    flt = scope_filter(params)
    return "" if flt is None else f" {flt.describe()}"

"""Helpers every job module needs."""

from __future__ import annotations

from typing import Any

from jobboard.core import jobs


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

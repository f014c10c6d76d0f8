"""History of the caller's jobs, answered from the rollup (jobboard.core.stats)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import Kind, Stats, Window
from jobboard.core import stats
from jobboard.core.jobs import KINDS

router = APIRouter(tags=["history"])


@router.get(
    "/stats",
    response_model=Stats,
    summary="Your jobs over the last 24 hours, 7 days or 30 days, per kind",
    description="Per job kind: jobs that ended per hour (24h) or per UTC day (7d, 30d) by "
    "outcome, the failure rate (failed / ended) and the median and 95th percentile run time "
    "of the completed jobs (estimated within 1-2-5 log-scale buckets: 0.1 s, 0.2 s, 0.5 s, 1 s …).",
)
def get_stats(user: CurrentUser, window: Window = "24h", kind: Kind | None = None) -> Any:
    found = stats.summary(user.id, window, kind=kind.value if kind else None)
    for entry in found["kinds"]:
        spec = KINDS.get(entry["kind"])
        entry["label"] = spec.label if spec else entry["kind"]
    return found

"""History of the caller's jobs, answered from the rollup (jobboard.core.stats)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from jobboard.api.v1.deps import CurrentUser
from jobboard.api.v1.schemas import Kind, Stats, Window
from jobboard.core import stats
from jobboard.core.format import known_zone
from jobboard.core.jobs import KINDS

router = APIRouter(tags=["history"])

ZONE_WORDS = "`tz` must be an IANA time zone name, such as Europe/Prague or America/New_York"


@router.get(
    "/stats",
    response_model=Stats,
    summary="Your jobs over the last 24 hours, 7 days or 30 days, per kind",
    description="Per job kind: jobs that ended per hour (24h) or per day (7d, 30d) by "
    "outcome, the failure rate (failed / ended) and the median and 95th percentile run time "
    "of the completed jobs (estimated within 1-2-5 log-scale buckets: 0.1 s, 0.2 s, 0.5 s, 1 s …)."
    "\n\nDays are calendar days of the time zone `tz` (an IANA name such as `Europe/Prague`; "
    "UTC when left out), from local midnight to local midnight, so a day across a DST change "
    "has 23 or 25 hours. The slots' `start`, `since` and `until` carry that zone's offset and "
    "the answer's `tz` names it. Jobs are counted per hour, so where the offset is not whole "
    "hours (Asia/Kolkata) the hour that holds midnight counts for the day that begins in it. "
    "An unknown zone is refused with 422.",
)
def get_stats(
    user: CurrentUser,
    window: Window = "24h",
    kind: Kind | None = None,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="IANA time zone of the days, e.g. Europe/Prague"),
    ] = None,
) -> Any:
    zone = None
    if tz is not None:
        zone = known_zone(tz)
        if zone is None:
            raise HTTPException(422, ZONE_WORDS)
    found = stats.summary(user.id, window, kind=kind.value if kind else None, tz=zone)
    for entry in found["kinds"]:
        spec = KINDS.get(entry["kind"])
        entry["label"] = spec.label if spec else entry["kind"]
    return found

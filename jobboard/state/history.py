"""History page state: the signed-in user's job history from the rollup (jobboard.core.stats),
in the browser's time zone and the session's locale."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from jobboard.core import stats
from jobboard.core.format import clock, count, human_seconds, known_zone, number, short_date
from jobboard.core.jobs import KINDS
from jobboard.state.session import owner_of

log = logging.getLogger(__name__)

WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}
# The browser's own time zone (an IANA name); the server checks it before using it.
BROWSER_ZONE = "Intl.DateTimeFormat().resolvedOptions().timeZone"
DEFAULT_ZONE = "UTC"


@dataclasses.dataclass
class KindHistory:
    """One job kind over the window, ready to show; `series` feeds the charts."""

    kind: str = ""
    label: str = ""
    total: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    # The counts as the formatter writes them (the session's locale).
    total_text: str = "0"
    completed_text: str = "0"
    failed_text: str = "0"
    cancelled_text: str = "0"
    failure_text: str = ""
    p50_text: str = ""
    p95_text: str = ""
    series: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{number(rate * 100, 1 if 0 < rate < 0.1 else 0)} %"


def slot_label(start: datetime, unit: str) -> str:
    """A slot's axis label in the current locale: its start on the zone's clock ("2:00 PM",
    cs "14:00") or its local day ("11/26", cs "26. 11.")."""
    return clock(start) if unit == "hour" else short_date(start.date())


def _point(point: dict[str, Any], label: str) -> dict[str, Any]:
    p50, p95 = point["p50_seconds"], point["p95_seconds"]
    return {
        "label": label,
        "completed": point["completed"],
        "failed": point["failed"],
        "cancelled": point["cancelled"],
        # Seconds, rounded for the tooltip; null leaves a gap in the duration lines.
        "p50": None if p50 is None else round(p50, 2),
        "p95": None if p95 is None else round(p95, 2),
    }


def kind_histories(summary: dict[str, Any]) -> list[KindHistory]:
    """The summary of `stats.summary` as display rows (plain data, no Reflex), formatted in
    the current locale; the slots' times are already in the summary's zone."""
    out = []
    labels: dict[datetime, str] = {}  # every kind has the same slots: each label made once
    for entry in summary["kinds"]:
        for point in entry["series"]:
            if point["start"] not in labels:
                labels[point["start"]] = slot_label(point["start"], summary["bucket"])
        spec = KINDS.get(entry["kind"])
        out.append(
            KindHistory(
                kind=entry["kind"],
                label=spec.label if spec else entry["kind"],
                total=entry["total"],
                completed=entry["completed"],
                failed=entry["failed"],
                cancelled=entry["cancelled"],
                total_text=count(entry["total"]),
                completed_text=count(entry["completed"]),
                failed_text=count(entry["failed"]),
                cancelled_text=count(entry["cancelled"]),
                failure_text=_percent(entry["failure_rate"]),
                p50_text=human_seconds(entry["p50_seconds"]) or "–",
                p95_text=human_seconds(entry["p95_seconds"]) or "–",
                series=[_point(p, labels[p["start"]]) for p in entry["series"]],
            )
        )
    return out


def read_history(owner_id: str, window: str, zone_name: str) -> list[KindHistory]:
    """The owner's history over `window` in the zone `zone_name` (UTC if it names none),
    ready to show: reads the database, so it runs in a worker thread."""
    summary = stats.summary(owner_id, window, tz=known_zone(zone_name))
    return kind_histories(summary)


class HistoryState(rx.State):
    window: str = "24h"
    # The zone the figures are in: the browser's, once it said which and the server knows it.
    zone: str = DEFAULT_ZONE
    kinds: list[KindHistory] = []
    loading: bool = True
    error: str = ""

    @rx.var(cache=True)
    def window_words(self) -> str:
        return WINDOW_WORDS.get(self.window, self.window)

    @rx.var(cache=True)
    def empty_words(self) -> str:
        return (
            f"No jobs ended in the last {self.window_words}. Jobs show up here once they "
            "complete, fail or are cancelled."
        )

    @rx.var(cache=True)
    def bucket_words(self) -> str:
        return f"per hour, {self.zone}" if self.window == "24h" else f"per day, {self.zone}"

    async def _read(self) -> None:
        try:
            # The locale of this event holds in the thread (to_thread copies the context).
            self.kinds = await asyncio.to_thread(
                read_history, owner_of(self), self.window, self.zone
            )
        except Exception:
            log.exception("could not read the job history")
            self.error = "The history could not be read just now. Try again in a moment."
        else:
            self.error = ""
        self.loading = False

    @rx.event
    def load(self) -> EventSpec:
        """Ask the browser for its time zone; `set_zone` reads the history in it."""
        self.loading = True
        return rx.call_script(BROWSER_ZONE, callback=HistoryState.set_zone)

    @rx.event
    async def set_zone(self, value: Any) -> None:
        # The browser's word is checked: a name the zone database lacks (or anything that is
        # not a name) is ignored, and the page stays in UTC, as its labels then say.
        zone = await asyncio.to_thread(known_zone, value)
        self.zone = zone.key if zone is not None else DEFAULT_ZONE
        await self._read()

    @rx.event
    async def set_window(self, value: str | list[str]) -> AsyncIterator[None]:
        if not isinstance(value, str) or value not in stats.WINDOWS:
            return  # only the three windows; anything else is ignored
        self.window, self.loading = value, True
        yield
        await self._read()

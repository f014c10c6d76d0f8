"""History page state: the signed-in user's job history from the rollup (jobboard.core.stats)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from jobboard.core import stats
from jobboard.core.format import count, human_seconds, number
from jobboard.core.jobs import KINDS
from jobboard.state.session import owner_of

log = logging.getLogger(__name__)

WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}


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


def _point(point: dict[str, Any], unit: str) -> dict[str, Any]:
    start = point["start"]
    label = start.strftime("%H:%M") if unit == "hour" else start.strftime("%b %d")
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
    """The summary of `stats.summary` as display rows (plain data, no Reflex)."""
    out = []
    for entry in summary["kinds"]:
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
                series=[_point(p, summary["bucket"]) for p in entry["series"]],
            )
        )
    return out


class HistoryState(rx.State):
    window: str = "24h"
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
        return "per hour, UTC" if self.window == "24h" else "per day, UTC"

    async def _read(self) -> None:
        try:
            summary = await asyncio.to_thread(stats.summary, owner_of(self), self.window)
        except Exception:
            log.exception("could not read the job history")
            self.error = "The history could not be read just now. Try again in a moment."
        else:
            self.kinds = kind_histories(summary)
            self.error = ""
        self.loading = False

    @rx.event
    async def load(self) -> AsyncIterator[None]:
        self.loading = True
        yield  # the loading state shows while the rollup is read
        await self._read()

    @rx.event
    async def set_window(self, value: str | list[str]) -> AsyncIterator[None]:
        if not isinstance(value, str) or value not in stats.WINDOWS:
            return  # only the three windows; anything else is ignored
        self.window, self.loading = value, True
        yield
        await self._read()

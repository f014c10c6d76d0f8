"""Settings page: what is kept, for how long, and what the last purge removed."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from jobboard.core import retention


@dataclasses.dataclass
class PolicyRow:
    what: str = ""
    kept: str = ""


class RetentionState(rx.State):
    policy: list[PolicyRow] = []
    last_run: str = ""  # "" until a purge has run
    last_summary: str = ""

    @rx.event
    async def load(self) -> None:
        self.policy = [PolicyRow(what, kept) for what, kept in retention.policy()]
        report = await asyncio.to_thread(retention.last_report)
        self.last_run = report.finished_at if report else ""  # ISO 8601
        self.last_summary = report.summary() if report else ""

"""Review before apply, on the job page of an auto-categorize or describe job.

The rows shown come from the job's result (the job page's state); the decisions (accept,
reject, a changed value) stay in this server-side state until "Apply", which hands them to
`jobboard.core.reviews` — where the job is looked up again for the signed-in owner and every
value is checked against the job's own result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import reflex as rx

from jobboard.core.format import count
from jobboard.core.reviews import DEFAULT_THRESHOLD, ReviewError, apply_reviewed, last_apply
from jobboard.core.reviews import undo_last_apply as undo_core
from jobboard.state.jobs import JobDetailState
from jobboard.state.session import owner_of

REVIEW_PAGE = 50
THRESHOLDS = ["0.0", "0.5", "0.6", "0.7", "0.8", "0.9", "0.95"]
log = logging.getLogger(__name__)


@dataclasses.dataclass
class ReviewRow:
    product_id: str = ""
    title: str = ""
    value: str = ""
    proposed: str = ""
    confidence: str = ""
    decision: str = "pending"  # pending | accepted | rejected


def _confidence(row: dict[str, str]) -> float:
    try:
        return float(row.get("confidence") or "nan")
    except ValueError:
        return float("nan")


class ReviewState(JobDetailState):
    threshold: str = str(DEFAULT_THRESHOLD)
    decisions: dict[str, str] = {}
    changes: dict[str, str] = {}
    review_page: int = 1
    can_undo: bool = False
    review_of: str = ""  # the job the decisions belong to

    def _proposals(self) -> list[dict[str, str]]:
        if self.assignments:
            return [
                {**a, "value": a.get("category", "")} for a in self.assignments
            ]  # fmt: skip
        return [
            {**d, "value": d.get("description", ""), "confidence": ""} for d in self.descriptions
        ]

    def _limit(self) -> float:
        try:
            return float(self.threshold)
        except ValueError:
            return DEFAULT_THRESHOLD

    def _shown(self) -> list[dict[str, str]]:
        """Rows at or above the threshold (descriptions have no confidence: all shown)."""
        limit = self._limit()
        return [p for p in self._proposals() if not p.get("confidence") or _confidence(p) >= limit]

    @rx.var
    def review_field(self) -> str:
        return "category" if self.assignments else "description" if self.descriptions else ""

    @rx.var
    def review_rows(self) -> list[ReviewRow]:
        start = (self.review_page - 1) * REVIEW_PAGE
        rows = []
        for p in self._shown()[start : start + REVIEW_PAGE]:
            pid = p.get("product_id", "")
            rows.append(
                ReviewRow(
                    product_id=pid,
                    title=p.get("title", ""),
                    value=self.changes.get(pid, p["value"]),
                    proposed=p["value"],
                    confidence=p.get("confidence", ""),
                    decision=self.decisions.get(pid, "pending"),
                )
            )
        return rows

    @rx.var
    def shown_count(self) -> int:
        return len(self._shown())

    @rx.var
    def hidden_count(self) -> int:
        return len(self._proposals()) - len(self._shown())

    @rx.var
    def accepted_count(self) -> int:
        return sum(1 for d in self.decisions.values() if d == "accepted")

    @rx.var
    def review_pages(self) -> int:
        return max(1, -(-len(self._shown()) // REVIEW_PAGE))

    # The counts as the formatter writes them, in the session's locale.
    @rx.var
    def hidden_text(self) -> str:
        return count(self.hidden_count)

    @rx.var
    def shown_text(self) -> str:
        return count(self.shown_count)

    @rx.var
    def accepted_text(self) -> str:
        return count(self.accepted_count)

    @rx.var
    def review_page_text(self) -> str:
        return f"Page {count(self.review_page)} of {count(self.review_pages)}"

    def _mine(self) -> None:
        """Decisions belong to one job: a new job page starts clean."""
        if self.review_of != self.job.id:
            self.review_of = self.job.id
            self.decisions, self.changes, self.review_page = {}, {}, 1
            self.threshold = str(DEFAULT_THRESHOLD)

    @rx.event
    async def load(self) -> None:
        self._mine()
        self.can_undo = bool(
            self.job.id and await asyncio.to_thread(last_apply, owner_of(self), self.job.id)
        )

    @rx.event
    def set_threshold(self, value: str) -> None:
        self._mine()
        self.threshold, self.review_page = value, 1

    @rx.event
    def decide(self, product_id: str, decision: str) -> None:
        self._mine()
        if decision in ("accepted", "rejected", "pending"):
            self.decisions = {**self.decisions, product_id: decision}

    @rx.event
    def change(self, product_id: str, value: str) -> None:
        """A changed value counts as accepted (that is why one changes it)."""
        self._mine()
        self.changes = {**self.changes, product_id: value}
        self.decisions = {**self.decisions, product_id: "accepted"}

    @rx.event
    def accept_shown(self) -> None:
        """Accept every undecided row at or above the threshold."""
        self._mine()
        decisions = dict(self.decisions)
        for p in self._shown():
            decisions.setdefault(p.get("product_id", ""), "accepted")
        self.decisions = decisions

    @rx.event
    def next_review_page(self) -> None:
        self.review_page = min(self.review_page + 1, self.review_pages)

    @rx.event
    def prev_review_page(self) -> None:
        self.review_page = max(1, self.review_page - 1)

    @rx.event
    async def apply_reviewed(self) -> rx.event.EventSpec:
        self._mine()
        accepted = [int(pid) for pid, d in self.decisions.items() if d == "accepted"]
        changes = {int(pid): v for pid, v in self.changes.items()}
        try:
            done = await asyncio.to_thread(
                apply_reviewed, owner_of(self), self.job.id, accepted, changes
            )
        except ReviewError as exc:
            return rx.toast.error(str(exc))
        except Exception:
            log.exception("apply failed")
            return rx.toast.error("The catalog could not be updated; nothing was changed.")
        self.can_undo = True
        gone = f" ({count(done.skipped)} are no longer in the catalog)" if done.skipped else ""
        return rx.toast.success(
            f"Updated the {self.review_field} of {count(done.changed)} products{gone}. "
            "You can undo this."
        )

    @rx.event
    async def undo_last_apply(self) -> rx.event.EventSpec:
        owner = owner_of(self)
        try:
            restored, kept = await asyncio.to_thread(undo_core, owner, self.job.id)
        except ReviewError as exc:
            return rx.toast.error(str(exc))
        self.can_undo = bool(await asyncio.to_thread(last_apply, owner, self.job.id))
        also = f"; {count(kept)} changed since keep their newer value" if kept else ""
        return rx.toast.success(
            f"Undone: {count(restored)} products have their old value back{also}."
        )

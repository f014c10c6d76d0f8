"""Browser-notification permission, preferences and the notices sent when a job ends."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from jobboard.core.jobs import ended_since
from jobboard.core.models import JobStatus
from jobboard.core.notices import claim_announcement, ending_notice
from jobboard.core.prefs import get_prefs, save_prefs
from jobboard.state import live
from jobboard.state.session import owner_of, token_of

READ_PERMISSION = "window.jobboard ? window.jobboard.permission() : 'unsupported'"
PERMISSION_WORDS = {
    "granted": "Allowed: Jobboard can notify you when a job finishes or fails.",
    "denied": "Blocked: this browser will not show Jobboard notifications.",
    "default": "Not decided yet: Jobboard has not been allowed to notify you.",
    "unsupported": "Not available here: this browser or address (not https) has no notifications.",
}
ANNOUNCED_KEPT = 50  # ids sent back with every reconnect: keep it small
# Endings this close before a session last followed events may not have reached it.
MISSED_MARGIN = 10.0  # seconds
_TOASTS = {
    "success": rx.toast.success,
    "warning": rx.toast.warning,
    "error": rx.toast.error,
    "info": rx.toast.info,
}
_PREF_FOR_STATUS = {
    JobStatus.COMPLETED: "on_completed",
    JobStatus.FAILED: "on_failed",
    JobStatus.CANCELLED: "on_cancelled",
}


_TAB_ID = re.compile(r"[0-9a-f]{32}")


def _epoch(text: str) -> float:
    """A stored epoch time, or 0 for anything else (the browser can send any string)."""
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0 < value < time.time() + 60 else 0.0


class NotifyState(rx.State):
    permission: str = ""  # "" until the browser has told us
    # Remembered in this browser: the permission state the banner was dismissed in.
    dismissed_for: str = rx.LocalStorage("", name="jobboard_banner_dismissed")
    # The "no notifications here" note shows on the first page that finds out, then never again.
    fallback_note_now: bool = False
    live: bool = False  # this page follows the owner's job events
    on_completed: bool = True
    on_failed: bool = True
    on_cancelled: bool = False
    only_in_background: bool = False
    # Kept in the tab, not in the server-side state: after an app crash Reflex gives the
    # reconnecting tab a new session (and a fresh state), and these must survive that.
    # Endings this tab has announced (job ids, space-separated): a resync replays endings,
    # and a job must never be toasted or notified twice.
    announced: str = rx.SessionStorage("", name="jobboard_announced")
    # When this tab last started following events or announced an ending (epoch seconds).
    seen_at: str = rx.SessionStorage("", name="jobboard_seen_at")
    # Names this tab for the server-side once-only check of catch-up announcements.
    tab_id: str = rx.SessionStorage("", name="jobboard_tab")
    opened_at: str = rx.SessionStorage("", name="jobboard_tab_opened")

    @rx.var
    def banner_visible(self) -> bool:
        if self.permission == "unsupported":
            return self.fallback_note_now
        return self.permission in ("default", "denied") and self.dismissed_for != self.permission

    @rx.var
    def permission_words(self) -> str:
        return PERMISSION_WORDS.get(self.permission, "Checking…")

    @rx.event
    async def start(self) -> list[EventSpec]:
        """On every page (and after every reconnect): follow the owner's jobs, read the
        browser's permission, and announce endings this session missed while it was away."""
        owner = owner_of(self)
        live.watch(owner, token_of(self), "notify", NotifyState)
        self.live = True
        self.fallback_note_now = False
        prefs = await asyncio.to_thread(get_prefs, owner)
        self.on_completed = prefs.on_completed
        self.on_failed = prefs.on_failed
        self.on_cancelled = prefs.on_cancelled
        self.only_in_background = prefs.only_in_background
        missed: list[dict[str, Any]] = []
        if (seen := _epoch(self.seen_at)) and (opened := _epoch(self.opened_at)):
            # Never reach back before the tab was opened: older endings are not news to it.
            since = datetime.fromtimestamp(max(seen - MISSED_MARGIN, opened), UTC)
            missed = await asyncio.to_thread(ended_since, owner, since)
        self.seen_at = f"{time.time():.3f}"
        if not _TAB_ID.fullmatch(self.tab_id) or not _epoch(self.opened_at):
            self.tab_id, self.opened_at = uuid.uuid4().hex, self.seen_at
        out = [rx.call_script(READ_PERMISSION, callback=NotifyState.set_permission)]
        for job in missed:
            if job["id"] not in self.announced.split() and await asyncio.to_thread(
                claim_announcement, self.tab_id, job["id"]
            ):
                out.extend(self._announce(job))
        return out

    @rx.event
    def read_permission(self) -> EventSpec:
        return rx.call_script(READ_PERMISSION, callback=NotifyState.set_permission)

    @rx.event
    def set_permission(self, value: Any) -> None:
        value = str(value or "")
        self.permission = value if value in PERMISSION_WORDS else "unsupported"
        if self.permission == "unsupported" and self.dismissed_for != "unsupported":
            self.fallback_note_now = True
            self.dismissed_for = "unsupported"

    @rx.event
    def request_permission(self) -> EventSpec:
        # Runs inside the click, so the browser accepts the request.
        return rx.call_script(
            "window.jobboard.requestPermission()", callback=NotifyState.set_permission
        )

    @rx.event
    def dismiss_banner(self) -> None:
        self.dismissed_for = self.permission
        self.fallback_note_now = False

    @rx.event
    def send_test(self) -> EventSpec:
        return rx.call_script("window.jobboard.testNotification()")

    @rx.event
    async def set_pref(self, name: str, value: bool) -> None:
        prefs = await asyncio.to_thread(save_prefs, owner_of(self), **{name: value})
        setattr(self, name, getattr(prefs, name))

    def apply_job_event(self, event: dict[str, Any]) -> list[EventSpec]:
        return self._announce(event["job"])

    def _ended_before_tab_opened(self, job: dict[str, Any]) -> bool:
        """A resync replays recent endings; those from before this tab existed are not news."""
        opened = _epoch(self.opened_at)
        try:
            ended = datetime.fromisoformat(job.get("completed_at") or "")
        except ValueError:
            return False
        if ended.tzinfo is None:  # SQLite keeps UTC without its zone
            ended = ended.replace(tzinfo=UTC)
        return bool(opened) and ended.timestamp() < opened

    def _announce(self, job: dict[str, Any]) -> list[EventSpec]:
        """A toast and, if wanted, an OS notification for a job that ended; once per job."""
        notice = ending_notice(job)
        announced = self.announced.split()
        if notice is None or job["id"] in announced or self._ended_before_tab_opened(job):
            return []
        self.announced = " ".join([*announced[-(ANNOUNCED_KEPT - 1) :], job["id"]])
        self.seen_at = f"{time.time():.3f}"
        # "Open" takes the user to the job's page: not offered on that very page.
        here = str(self.router.url.path or "").rstrip("/")
        action = {} if here == notice.url.rstrip("/") else {
            "action": {"label": "Open", "on_click": rx.redirect(notice.url)}
        }  # fmt: skip
        toast = _TOASTS[notice.level](
            notice.title,
            description=notice.body,
            id=notice.tag,
            duration=8000,
            close_button=True,
            **action,
        )
        out = [toast]
        if getattr(self, _PREF_FOR_STATUS[job["status"]]):
            payload = {
                "tag": notice.tag,
                "title": notice.title,
                "body": notice.body,
                "url": notice.url,
                "onlyInBackground": self.only_in_background,
            }
            # json.dumps makes the user's text a JS string literal, never code.
            out.append(
                rx.call_script(f"window.jobboard && window.jobboard.notify({json.dumps(payload)})")
            )
        return out

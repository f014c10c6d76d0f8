"""Cancel and retry, from any page: the Tasks rows, a job's page and the header panel."""

from __future__ import annotations

import asyncio
import time

import reflex as rx

from jobboard.core import jobs
from jobboard.core.models import JobStatus
from jobboard.state.session import owner_of


class JobActionsState(rx.State):
    @rx.event(background=True)
    async def cancel(self, job_id: str):
        owner = owner_of(self)
        try:
            status = await asyncio.to_thread(jobs.cancel, job_id, owner)
        except LookupError:
            yield rx.toast.error("That job is not yours or no longer exists.")
            return
        if status != JobStatus.PROCESSING:
            return
        # A running job stops at its next progress report; one that does not report is stopped.
        deadline = time.monotonic() + jobs.CANCEL_GRACE_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            job = await asyncio.to_thread(jobs.get_job, job_id, owner)
            if job is None or job["status"] != JobStatus.PROCESSING:
                return
        await asyncio.to_thread(jobs.force_stop, job_id)

    @rx.event
    async def retry(self, job_id: str, only_failed_rows: bool = False):
        try:
            new = await asyncio.to_thread(
                jobs.retry, job_id, owner_of(self), only_failed_rows=only_failed_rows
            )
        except (LookupError, jobs.JobError) as exc:
            return rx.toast.error(f"Could not retry: {exc}")
        return rx.redirect(f"/tasks/{new.id}")

"""A running job's progress as the browser keeps it (assets/live_jobs.jsx).

Progress-only updates reach the page as a frame in `LiveState.frame` (see
jobboard/state/live.py), not as new rows; these components show a job's newest progress from
that frame, or the row's own value when the row is newer.
"""

from __future__ import annotations

import reflex as rx

from jobboard.state.live import LiveState

_LIBRARY = "$/public/live_jobs.jsx"


class LiveFeed(rx.Component):
    """Takes each frame into the browser's store; renders nothing. Once per page."""

    library = _LIBRARY
    tag = "LiveFeed"

    frame: rx.Var[dict]


class LiveText(rx.Component):
    """One field of a job's progress ("percentage_text", "step", "counts", "speed", "eta")."""

    library = _LIBRARY
    tag = "LiveText"

    job_id: rx.Var[str]
    version: rx.Var[int]
    name: rx.Var[str]
    value: rx.Var[str]


class LiveProgress(rx.Component):
    """Radix Themes' progress bar at the job's newest percentage."""

    library = _LIBRARY
    tag = "LiveProgress"

    job_id: rx.Var[str]
    version: rx.Var[int]
    value: rx.Var[float]
    label: rx.Var[str]
    size: rx.Var[str]


class LiveTime(rx.Component):
    """A LocalTime of the job's newest `updated_at`."""

    library = _LIBRARY
    tag = "LiveTime"

    job_id: rx.Var[str]
    version: rx.Var[int]
    name: rx.Var[str]
    value: rx.Var[str]
    fallback: rx.Var[str]


def live_feed() -> rx.Component:
    return LiveFeed.create(frame=LiveState.frame)


def live_text(
    job_id: rx.Var[str], version: rx.Var[int], name: str, value: rx.Var[str]
) -> rx.Component:
    return LiveText.create(job_id=job_id, version=version, name=name, value=value)

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


class _JobField(rx.Component):
    """A piece of one job's progress: the frame's entry when newer than the row's `version`."""

    library = _LIBRARY

    job_id: rx.Var[str]
    version: rx.Var[int]


class LiveText(_JobField):
    """One field of a job's progress ("percentage_text", "step", "counts", "speed", "eta")."""

    tag = "LiveText"

    name: rx.Var[str]
    value: rx.Var[str]


class LiveProgress(_JobField):
    """Radix Themes' progress bar at the job's newest percentage."""

    tag = "LiveProgress"

    value: rx.Var[float]
    label: rx.Var[str]
    size: rx.Var[str]


class LiveTime(_JobField):
    """A LocalTime of one of the job's newest times (`name`, e.g. "updated_at")."""

    tag = "LiveTime"

    name: rx.Var[str]
    value: rx.Var[str]
    fallback: rx.Var[str]


def live_feed() -> rx.Component:
    return LiveFeed.create(frame=LiveState.frame)


def live_text(
    job_id: rx.Var[str], version: rx.Var[int], name: str, value: rx.Var[str]
) -> rx.Component:
    return LiveText.create(job_id=job_id, version=version, name=name, value=value)

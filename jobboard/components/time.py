"""Times in the user's zone and locale, formatted in the browser (assets/local_time.jsx).

Relative when recent ("3 min ago"), date and time otherwise; the full date, time and zone on
hover. The server sends ISO 8601 times only, so every page shows one format in one zone.
"""

from __future__ import annotations

import reflex as rx


class LocalTime(rx.Component):
    """`<time>` rendered by a small React component: it survives Reflex's re-renders."""

    library = "$/public/local_time.jsx"
    tag = "LocalTime"

    # An ISO 8601 time; one without an offset is read as UTC.
    date_time: rx.Var[str]
    # "relative" (default: relative when within a day) or "absolute".
    mode: rx.Var[str]
    # Shown when there is no time (e.g. "—" for a job that has not started).
    fallback: rx.Var[str]


def local_time(
    value: rx.Var[str] | str, *, mode: str = "relative", fallback: str = "", **props
) -> rx.Component:
    return LocalTime.create(date_time=value, mode=mode, fallback=fallback, **props)

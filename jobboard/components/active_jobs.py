"""The header's active-jobs indicator and its panel."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import cancel_button
from jobboard.components.connection import offline
from jobboard.components.live import LiveProgress, live_text
from jobboard.state.active_jobs import ActiveJobsState
from jobboard.state.rows import JobRow

S = ActiveJobsState


def _job(job: rx.Var[JobRow]) -> rx.Component:
    """One running job. The title is the link (stretched over the card by CSS), Cancel a
    control of its own beside it: never a button inside a link."""
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.link(
                    job.title,
                    href="/tasks/" + job.id,
                    weight="medium",
                    size="2",
                    underline="none",
                    color_scheme="gray",
                    high_contrast=True,
                    truncate=True,
                    flex="1",
                    class_name="jb-card-link",
                ),
                rx.text(
                    live_text(job.id, job.version, "percentage_text", job.percentage_text),
                    size="2",
                    custom_attrs={"data-field": "percentage"},
                ),
                width="100%",
                spacing="2",
            ),
            LiveProgress.create(
                job_id=job.id,
                version=job.version,
                value=job.percentage,
                label="Progress of " + job.title,
                size="1",
                width="100%",
            ),
            rx.hstack(
                rx.text(
                    live_text(job.id, job.version, "step", job.step),
                    size="1",
                    color_scheme="gray",
                    custom_attrs={"data-field": "step"},
                ),
                rx.spacer(),
                rx.text(
                    live_text(job.id, job.version, "eta", job.eta), size="1", color_scheme="gray"
                ),
                rx.box(cancel_button(job), class_name="jb-above-link"),
                width="100%",
                align="center",
            ),
            spacing="1",
            width="100%",
        ),
        custom_attrs={"data-job-id": job.id},
        class_name="jb-link-card",
        width="100%",
        padding="0.5em",
        border_radius="8px",
        _hover={"background": "var(--gray-a3)"},
    )


def _offline_indicator() -> rx.Component:
    """While disconnected the count may be stale: say so rather than show it."""
    return rx.button(
        rx.icon("wifi-off", size=16),
        rx.text("Reconnecting…"),
        variant="soft",
        color_scheme="gray",
        id="active-jobs-indicator",
        custom_attrs={"data-offline": "true"},
        aria_label="Not connected: the active-jobs count is paused",
        disabled=True,
    )


def _loading_indicator() -> rx.Component:
    """Before the first snapshot: a placeholder, never a false "No active jobs"."""
    return rx.skeleton(
        rx.button(
            rx.icon("loader-circle", size=16),
            rx.text("Active jobs"),
            variant="soft",
            color_scheme="gray",
            id="active-jobs-indicator",
            custom_attrs={"data-loading": "true"},
            aria_label="Loading the active jobs",
            disabled=True,
        ),
    )


def active_jobs_indicator() -> rx.Component:
    return rx.cond(
        offline,
        _offline_indicator(),
        rx.cond(S.loaded, _online_indicator(), _loading_indicator()),
    )


def _online_indicator() -> rx.Component:
    busy = S.count > 0
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon(rx.cond(busy, "loader-circle", "circle-check"), size=16),
                rx.cond(busy, rx.text(S.count_text, " active"), rx.text("No active jobs")),
                variant=rx.cond(busy, "solid", "soft"),
                color_scheme=rx.cond(busy, "indigo", "gray"),
                id="active-jobs-indicator",
                custom_attrs={"data-count": S.count},
                aria_label=S.count_text + " active jobs",
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.heading("Active jobs", as_="h2", size="3"),
                rx.cond(
                    busy,
                    rx.vstack(rx.foreach(S.rows, _job), spacing="1", width="100%"),
                    rx.text("Nothing is running right now.", size="2", color_scheme="gray"),
                ),
                rx.cond(
                    S.count > S.rows.length(),
                    rx.text("and ", S.more_text, " more", size="1", color_scheme="gray"),
                ),
                rx.link("All tasks →", href="/tasks", size="2"),
                spacing="2",
                width="22em",
                max_width="calc(100vw - 2.5em)",
            ),
            id="active-jobs-panel",
            align="end",
        ),
    )

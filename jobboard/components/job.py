"""Pieces that show one job: status badge and progress."""

from __future__ import annotations

import reflex as rx

from jobboard.components.live import LiveProgress, live_text
from jobboard.state.rows import JobRow


def status_badge(
    label: rx.Var[str], color: rx.Var[str], status: rx.Var[str] | str = ""
) -> rx.Component:
    """The job's honest outcome ("completed · 9 skipped"), coloured by its tone."""
    return rx.badge(
        label,
        color_scheme=color,
        variant="soft",
        high_contrast=True,  # the soft badge's coloured text is below AA on its own tint
        size="2",
        custom_attrs={"data-field": "status", "data-status": status, "data-tone": color},
    )


def progress_cell(job: rx.Var[JobRow]) -> rx.Component:
    return progress_bits(job.id, job.version, job.percentage, job.percentage_text, job.step)


def progress_bits(
    job_id: rx.Var[str],
    version: rx.Var[int],
    percentage: rx.Var[float],
    percentage_text: rx.Var[str],
    step: rx.Var[str],
) -> rx.Component:
    """The bar, the percentage and the step: live (the browser's newest progress frame)."""
    return rx.vstack(
        rx.hstack(
            LiveProgress.create(
                job_id=job_id,
                version=version,
                value=percentage,
                label="Progress",
                size="2",
                width="100%",
            ),
            rx.text(
                live_text(job_id, version, "percentage_text", percentage_text),
                size="2",
                weight="medium",
                min_width="3.5em",
                text_align="right",
                custom_attrs={"data-field": "percentage"},
            ),
            align="center",
            width="100%",
        ),
        rx.text(
            live_text(job_id, version, "step", step),
            size="1",
            color_scheme="gray",
            custom_attrs={"data-field": "step"},
        ),
        spacing="1",
        width="100%",
    )

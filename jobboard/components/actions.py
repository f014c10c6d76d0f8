"""Cancel / retry buttons for one job (Tasks row, job page, header panel)."""

from __future__ import annotations

import reflex as rx

from jobboard.state.actions import JobActionsState
from jobboard.state.rows import JobRow


def cancel_button(job: rx.Var[JobRow], size: str = "1") -> rx.Component:
    return cancel_bits(job.id, job.can_cancel, size)


def cancel_bits(job_id: rx.Var[str], can_cancel: rx.Var[bool], size: str = "1") -> rx.Component:
    return rx.cond(
        can_cancel,
        rx.button(
            rx.icon("circle-stop", size=14),
            "Cancel",
            size=size,
            variant="soft",
            color_scheme="red",
            on_click=JobActionsState.cancel(job_id).stop_propagation.prevent_default,
            custom_attrs={"data-action": "cancel"},
        ),
    )


def job_actions(job: rx.Var[JobRow], size: str = "1") -> rx.Component:
    return action_bits(job.id, job.can_cancel, job.can_retry, job.can_retry_rows, size)


def action_bits(
    job_id: rx.Var[str],
    can_cancel: rx.Var[bool],
    can_retry: rx.Var[bool],
    can_retry_rows: rx.Var[bool],
    size: str = "1",
) -> rx.Component:
    return rx.hstack(
        cancel_bits(job_id, can_cancel, size),
        rx.cond(
            can_retry,
            rx.button(
                rx.icon("rotate-ccw", size=14),
                "Retry",
                size=size,
                variant="soft",
                on_click=JobActionsState.retry(job_id, False),
                custom_attrs={"data-action": "retry"},
            ),
        ),
        rx.cond(
            can_retry_rows,
            rx.button(
                "Retry failed items",
                size=size,
                variant="soft",
                color_scheme="orange",
                high_contrast=True,  # orange text on its soft tint is below AA
                on_click=JobActionsState.retry(job_id, True),
                custom_attrs={"data-action": "retry-failed"},
            ),
        ),
        spacing="2",
    )

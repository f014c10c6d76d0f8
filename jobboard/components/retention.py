"""Settings: the data-retention rule in words and the last purge."""

from __future__ import annotations

import reflex as rx

from jobboard.components.time import local_time
from jobboard.state.retention import PolicyRow, RetentionState

S = RetentionState


def _policy_row(row: rx.Var[PolicyRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.what),
        rx.table.cell(row.kept),
    )


def _last_purge() -> rx.Component:
    return rx.cond(
        S.last_run != "",
        rx.text(
            "Last clean-up: ",
            rx.text.strong(local_time(S.last_run)),
            " — ",
            S.last_summary,
            ".",
            size="2",
            id="retention-last",
        ),
        rx.text(
            "No clean-up has run yet; it runs every hour while Jobboard is up.",
            size="2",
            color_scheme="gray",
            id="retention-last",
        ),
    )


def retention_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Data retention", as_="h2", size="4"),
            rx.text(
                "Finished jobs and their files are deleted after a while, so disk and memory "
                "stay bounded. Jobs still queued or running are never deleted.",
                size="2",
            ),
            rx.table.root(
                rx.table.body(rx.foreach(S.policy, _policy_row)),
                variant="surface",
                size="1",
                width="100%",
                id="retention-policy",
            ),
            _last_purge(),
            rx.text("Set the period with JOBBOARD_RETENTION_DAYS.", size="1", color_scheme="gray"),
            spacing="3",
        ),
        width="100%",
        max_width="40em",
        id="retention",
    )

"""Tasks page: the owner's jobs, newest first, live."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import job_actions
from jobboard.components.job import progress_cell, status_badge
from jobboard.components.layout import page, pager
from jobboard.components.notifications import notification_permission_banner
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus
from jobboard.state.jobs import ALL, TasksState
from jobboard.state.rows import JobRow


def filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Status"),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *(rx.select.item(s.capitalize(), value=s) for s in JobStatus.ALL),
            ),
            value=TasksState.status_filter,
            on_change=TasksState.set_status_filter,
            id="status-filter",
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Kind"),
            rx.select.content(
                rx.select.item("All kinds", value=ALL),
                *(rx.select.item(k.label, value=k.name) for k in KINDS.values()),
            ),
            value=TasksState.kind_filter,
            on_change=TasksState.set_kind_filter,
            id="kind-filter",
        ),
        spacing="3",
    )


def job_row(job: rx.Var[JobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(job.kind_label, size="2", color_scheme="gray")),
        rx.table.cell(
            rx.link(job.title, href="/tasks/" + job.id, weight="medium"),
            rx.text(job.created_text, size="1", color_scheme="gray"),
            max_width="18em",
        ),
        rx.table.cell(status_badge(job.status)),
        rx.table.cell(progress_cell(job), min_width="16em"),
        rx.table.cell(rx.text(job.counts, size="2")),
        rx.table.cell(
            rx.cond(
                job.active,
                rx.vstack(
                    rx.text(job.speed, size="2"),
                    rx.text(job.eta, size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.text(job.duration, size="2", color_scheme="gray"),
            )
        ),
        rx.table.cell(job_actions(job)),
        custom_attrs={"data-job-id": job.id},
        align="center",
    )


def jobs_table() -> rx.Component:
    return rx.cond(
        TasksState.rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(h)
                        for h in ("Kind", "Job", "Status", "Progress", "Rows", "Speed / time", "")
                    )
                )
            ),
            rx.table.body(rx.foreach(TasksState.rows, job_row)),
            width="100%",
            variant="surface",
            id="jobs-table",
        ),
        rx.callout(
            "No jobs here yet. Upload a product file to start one.",
            icon="info",
            width="100%",
        ),
    )


@rx.page(route="/tasks", title="Tasks · Jobboard", on_load=TasksState.load)
def tasks() -> rx.Component:
    return page(
        "Tasks",
        notification_permission_banner(),
        filters(),
        jobs_table(),
        pager(
            TasksState.page,
            TasksState.page_count,
            TasksState.total,
            TasksState.prev_page,
            TasksState.next_page,
            ("job", "jobs"),
        ),
        actions=rx.link(rx.button(rx.icon("upload"), "Upload products"), href="/upload"),
    )

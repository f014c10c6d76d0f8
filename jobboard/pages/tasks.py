"""Tasks page: the owner's jobs, newest first, live."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import action_bits
from jobboard.components.job import progress_bits, status_badge
from jobboard.components.layout import link_button, on_load, page, pager
from jobboard.components.notifications import notification_permission_banner
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus
from jobboard.state.jobs import ALL, TasksState
from jobboard.state.rows import JobRow


def filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Status", custom_attrs={"aria-label": "Status"}),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *(rx.select.item(s.capitalize(), value=s.value) for s in JobStatus.ALL),
            ),
            value=TasksState.status_filter,
            on_change=TasksState.set_status_filter,
            id="status-filter",
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Kind", custom_attrs={"aria-label": "Kind"}),
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
    # Plain values, not the row object: React.memo then re-renders only the rows that changed.
    return task_row(
        id=job.id,
        kind_label=job.kind_label,
        title=job.title,
        created_text=job.created_text,
        status=job.status,
        percentage=job.percentage,
        percentage_text=job.percentage_text,
        step=job.step,
        counts=job.counts,
        speed=job.speed,
        eta=job.eta,
        duration=job.duration,
        active=job.active,
        can_cancel=job.can_cancel,
        can_retry=job.can_retry,
        can_retry_rows=job.can_retry_rows,
    )


@rx.memo
def task_row(
    id: rx.Var[str],
    kind_label: rx.Var[str],
    title: rx.Var[str],
    created_text: rx.Var[str],
    status: rx.Var[str],
    percentage: rx.Var[float],
    percentage_text: rx.Var[str],
    step: rx.Var[str],
    counts: rx.Var[str],
    speed: rx.Var[str],
    eta: rx.Var[str],
    duration: rx.Var[str],
    active: rx.Var[bool],
    can_cancel: rx.Var[bool],
    can_retry: rx.Var[bool],
    can_retry_rows: rx.Var[bool],
) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(kind_label, size="2", color_scheme="gray")),
        rx.table.cell(
            rx.link(title, href="/tasks/" + id, weight="medium"),
            rx.text(created_text, size="1", color_scheme="gray"),
            max_width="18em",
        ),
        rx.table.cell(status_badge(status)),
        rx.table.cell(progress_bits(percentage, percentage_text, step), min_width="16em"),
        rx.table.cell(rx.text(counts, size="2")),
        rx.table.cell(
            rx.cond(
                active,
                rx.vstack(
                    rx.text(speed, size="2"),
                    rx.text(eta, size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.text(duration, size="2", color_scheme="gray"),
            )
        ),
        rx.table.cell(action_bits(id, can_cancel, can_retry, can_retry_rows)),
        custom_attrs={"data-job-id": id},
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
                        for h in ("Kind", "Job", "Status", "Progress", "Done", "Speed / time", "")
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


@rx.page(route="/tasks", title="Tasks · Jobboard", on_load=on_load(TasksState.load))
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
        actions=link_button(rx.icon("upload"), "Upload products", href="/upload"),
    )

"""Tasks page: the owner's jobs, newest first, live."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import action_bits
from jobboard.components.job import progress_bits, status_badge
from jobboard.components.layout import card_cell, link_button, on_load, page
from jobboard.components.live import live_text
from jobboard.components.notifications import notification_permission_banner
from jobboard.components.time import local_time
from jobboard.core.joblist import SEARCH_MAX_CHARS
from jobboard.core.jobs import KINDS
from jobboard.core.models import JobStatus
from jobboard.state.jobs import ALL, TasksState
from jobboard.state.rows import JobRow


def search_box() -> rx.Component:
    """Search by title or file name; Enter (or the button) puts it in the address."""
    return rx.form(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                name="q",
                id="tasks-search",
                key=TasksState.query,  # a new address resets the box to its search
                default_value=TasksState.query,
                placeholder="Search titles and file names",
                aria_label="Search jobs by title or file name",
                max_length=SEARCH_MAX_CHARS,
                type="search",
                width="20em",
            ),
            rx.button("Search", type="submit", variant="soft", id="tasks-search-submit"),
            rx.cond(
                TasksState.query != "",
                rx.button(
                    "Clear",
                    type="button",
                    variant="ghost",
                    on_click=TasksState.clear_search,
                    id="tasks-search-clear",
                ),
            ),
            spacing="2",
            align="center",
        ),
        on_submit=TasksState.search,
        reset_on_submit=False,
    )


def filters() -> rx.Component:
    return rx.hstack(
        search_box(),
        rx.select.root(
            rx.select.trigger(
                placeholder="Status", custom_attrs={"aria-label": "Status"}, id="status-filter"
            ),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *(rx.select.item(s.capitalize(), value=s.value) for s in JobStatus.ALL),
            ),
            value=TasksState.status_filter,
            on_change=TasksState.set_status_filter,
        ),
        rx.select.root(
            rx.select.trigger(
                placeholder="Kind", custom_attrs={"aria-label": "Kind"}, id="kind-filter"
            ),
            rx.select.content(
                rx.select.item("All kinds", value=ALL),
                *(rx.select.item(k.label, value=k.name) for k in KINDS.values()),
            ),
            value=TasksState.kind_filter,
            on_change=TasksState.set_kind_filter,
        ),
        rx.cond(
            TasksState.filtered,
            rx.button(
                "Clear filters",
                variant="ghost",
                on_click=TasksState.clear_filters,
                id="clear-filters",
            ),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
    )


def job_row(job: rx.Var[JobRow]) -> rx.Component:
    # Plain values, not the row object: React.memo then re-renders only the rows that changed.
    return task_row(
        id=job.id,
        kind_label=job.kind_label,
        title=job.title,
        created_at=job.created_at,
        version=job.version,
        status=job.status,
        outcome=job.outcome,
        color=job.color,
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
    created_at: rx.Var[str],
    version: rx.Var[int],
    status: rx.Var[str],
    outcome: rx.Var[str],
    color: rx.Var[str],
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
        card_cell("kind", rx.text(kind_label, size="2", color_scheme="gray"), bare=True),
        card_cell(
            "job",
            rx.link(title, href="/tasks/" + id, weight="medium"),
            rx.text(local_time(created_at), size="1", color_scheme="gray"),
            bare=True,
            max_width="18em",
        ),
        card_cell("status", status_badge(outcome, color, status), bare=True),
        card_cell(
            "progress",
            progress_bits(id, version, percentage, percentage_text, step),
            bare=True,
            min_width="16em",
        ),
        card_cell(
            "done", rx.text(live_text(id, version, "counts", counts), size="2"), empty=counts == ""
        ),
        card_cell(
            "time",
            rx.cond(
                active,
                rx.vstack(
                    rx.text(live_text(id, version, "speed", speed), size="2"),
                    rx.text(live_text(id, version, "eta", eta), size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.text(duration, size="2", color_scheme="gray"),
            ),
        ),
        card_cell("actions", action_bits(id, can_cancel, can_retry, can_retry_rows), bare=True),
        custom_attrs={"data-job-id": id},
        align="center",
    )


HEADERS = ("Kind", "Job", "Status", "Progress", "Done", "Speed / time", "")


def skeleton_rows() -> rx.Component:
    """What the list looks like until its first snapshot arrives: rows being loaded."""
    return rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in HEADERS))),
        rx.table.body(
            *(
                rx.table.row(
                    *(rx.table.cell(rx.skeleton(rx.text("loading"), height="1em")) for _ in HEADERS)
                )
                for _ in range(6)
            )
        ),
        width="100%",
        variant="surface",
        id="jobs-loading",
        aria_busy="true",
        aria_label="Loading jobs",
    )


def empty_state() -> rx.Component:
    return rx.cond(
        TasksState.filtered,
        rx.callout(
            rx.hstack(
                rx.text("No jobs match this search or these filters."),
                rx.button(
                    "Clear filters", size="1", variant="soft", on_click=TasksState.clear_filters
                ),
                align="center",
                spacing="3",
            ),
            icon="search",
            width="100%",
            id="jobs-empty",
        ),
        rx.callout(
            "No jobs here yet. Upload a product file to start one.",
            icon="info",
            width="100%",
            id="jobs-empty",
        ),
    )


def jobs_table() -> rx.Component:
    return rx.cond(
        ~TasksState.loaded,
        skeleton_rows(),
        rx.cond(
            TasksState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in HEADERS))),
                rx.table.body(rx.foreach(TasksState.rows, job_row)),
                width="100%",
                variant="surface",
                id="jobs-table",
                class_name="jb-compact jb-jobs",  # compact cards below 640 px
                opacity=rx.cond(TasksState.loading, "0.6", "1"),
                aria_busy=TasksState.loading.to_string(),
            ),
            empty_state(),
        ),
    )


def tasks_pager() -> rx.Component:
    """Newer / Older by cursor; the total is exact, or "more than N" for a big search."""
    return rx.cond(
        TasksState.loaded,
        rx.hstack(
            rx.text(TasksState.total_text, color_scheme="gray", size="2", id="total-count"),
            rx.spacer(),
            rx.button(
                rx.icon("chevron-left", size=16),
                "Newer",
                on_click=TasksState.prev_page,
                disabled=TasksState.newer == "",
                variant="soft",
                id="prev-page",
            ),
            rx.text(TasksState.page_text, size="2", id="page-number"),
            rx.button(
                "Older",
                rx.icon("chevron-right", size=16),
                on_click=TasksState.next_page,
                disabled=TasksState.older == "",
                variant="soft",
                id="next-page",
            ),
            align="center",
            width="100%",
            spacing="3",
        ),
        rx.hstack(rx.skeleton(rx.text("… jobs"), width="8em"), width="100%"),
    )


def notice() -> rx.Component:
    return rx.cond(
        TasksState.message != "",
        rx.callout(
            TasksState.message,
            icon="triangle-alert",
            color_scheme="amber",
            high_contrast=True,  # amber text on its tint is below AA
            id="tasks-message",
        ),
    )


@rx.page(route="/tasks", title="Tasks · Jobboard", on_load=on_load(TasksState.load))
def tasks() -> rx.Component:
    return page(
        "Tasks",
        notification_permission_banner(),
        filters(),
        notice(),
        jobs_table(),
        tasks_pager(),
        actions=link_button(rx.icon("upload"), "Upload products", href="/upload"),
    )

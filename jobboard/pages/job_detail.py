"""Job page: every field of one job, live."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import job_actions
from jobboard.components.job import progress_cell, status_badge
from jobboard.components.layout import link_button, on_load, page
from jobboard.state.jobs import JobDetailState

S = JobDetailState


def field(label: str, value: rx.Var | str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def count_card(word: str, value: rx.Var[int], color: str) -> rx.Component:
    return rx.card(
        rx.text(word + " ", value.to_string(), size="5", weight="bold", color_scheme=color),
        custom_attrs={"data-count": word},
    )


def _row_list(
    heading: str,
    rows: rx.Var,
    columns: list[tuple[str, str]],
    table_id: str,
    count: rx.Var,
    noun: str,
) -> rx.Component:
    """A listed subset of an upload's rows (skipped, or imported with a warning)."""
    return rx.cond(
        rows.length() > 0,
        rx.vstack(
            rx.heading(heading, as_="h3", size="3"),
            simple_table(rows, columns, table_id),
            rx.cond(
                count > rows.length(),
                rx.text(
                    "Only the first ",
                    rows.length().to_string(),
                    " of ",
                    count.to_string(),
                    f" {noun} are listed.",
                    size="1",
                ),
            ),
            width="100%",
        ),
    )


def result_section() -> rx.Component:
    return rx.cond(
        S.has_result,
        rx.vstack(
            rx.heading("Result", as_="h2", size="4"),
            rx.hstack(
                count_card("imported", S.imported, "green"),
                count_card("updated", S.updated, "blue"),
                count_card("skipped", S.skipped, "orange"),
                spacing="3",
                wrap="wrap",
            ),
            rx.text(
                S.filename,
                " · ",
                S.file_format,
                rx.cond(S.encoding != "", " · " + S.encoding, ""),
                " · ",
                S.total_rows.to_string(),
                " rows",
                size="2",
                color_scheme="gray",
            ),
            _row_list(
                "Rows that were skipped",
                S.row_errors,
                [("Row", "row"), ("Reason", "reason")],
                "row-errors",
                S.skipped,
                "skipped rows",
            ),
            _row_list(
                "Rows imported with a warning",
                S.row_warnings,
                [("Row", "row"), ("Warning", "message")],
                "row-warnings",
                S.warnings_count,
                "warnings",
            ),
            width="100%",
            spacing="3",
        ),
    )


def simple_table(rows: rx.Var, columns: list[tuple[str, str]], table_id: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h, _ in columns))),
        rx.table.body(
            rx.foreach(rows, lambda r: rx.table.row(*(rx.table.cell(r[k]) for _, k in columns)))
        ),
        variant="surface",
        size="1",
        width="100%",
        id=table_id,
    )


def ai_results() -> rx.Component:
    """Readable results of AI and export jobs, with their one-click actions."""
    return rx.vstack(
        rx.cond(S.summary != "", rx.text(S.summary, weight="medium", id="result-summary")),
        rx.cond(
            S.dup_groups.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Similarity"),
                        rx.table.column_header_cell("Products that look the same"),
                    )
                ),
                rx.table.body(
                    rx.foreach(
                        S.dup_groups,
                        lambda g: rx.table.row(
                            rx.table.cell(rx.badge(g.score)),
                            rx.table.cell(rx.vstack(rx.foreach(g.products, rx.text), spacing="1")),
                        ),
                    )
                ),
                variant="surface",
                width="100%",
                id="duplicate-groups",
            ),
        ),
        rx.cond(
            S.assignments.length() > 0,
            rx.vstack(
                rx.button(
                    "Apply these categories",
                    on_click=S.apply_result("category"),
                    custom_attrs={"data-action": "apply"},
                ),
                simple_table(
                    S.assignments,
                    [("Product", "title"), ("Category", "category"), ("Confidence", "confidence")],
                    "category-assignments",
                ),
                width="100%",
            ),
        ),
        rx.cond(
            S.matched.length() > 0,
            simple_table(
                S.matched,
                [
                    ("Row", "row"),
                    ("SKU", "sku"),
                    ("Title", "title"),
                    ("Catalog product", "product_title"),
                    ("How", "method"),
                    ("Score", "score"),
                ],
                "matched-rows",
            ),
        ),
        rx.cond(
            S.ambiguous.length() > 0,
            simple_table(
                S.ambiguous,
                [("Row", "row"), ("Title", "title"), ("Could be", "candidates")],
                "ambiguous-rows",
            ),
        ),
        rx.cond(
            S.unmatched.length() > 0,
            simple_table(
                S.unmatched, [("Row", "row"), ("SKU", "sku"), ("Title", "title")], "unmatched-rows"
            ),
        ),
        rx.cond(
            S.descriptions.length() > 0,
            rx.vstack(
                rx.button(
                    "Apply these descriptions",
                    on_click=S.apply_result("description"),
                    custom_attrs={"data-action": "apply"},
                ),
                simple_table(
                    S.descriptions,
                    [("Product", "title"), ("Description", "description")],
                    "descriptions",
                ),
                width="100%",
            ),
        ),
        rx.cond(
            S.failed_items.length() > 0,
            simple_table(
                S.failed_items, [("Product", "title"), ("Why it failed", "error")], "failed-items"
            ),
        ),
        rx.cond(
            S.download_url != "",
            link_button(
                rx.icon("download"),
                "Download CSV",
                href=S.download_url,
                is_external=True,
                custom_attrs={"data-action": "download"},
            ),
        ),
        width="100%",
        spacing="3",
    )


def error_section() -> rx.Component:
    return rx.cond(
        S.job.error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert")),
            rx.callout.text(
                rx.text.strong(rx.cond(S.job.status == "failed", "This job failed: ", "Note: ")),
                S.job.error,
            ),
            color_scheme=rx.cond(S.job.status == "failed", "red", "orange"),
            id="job-error",
            width="100%",
        ),
    )


def details() -> rx.Component:
    job = S.job
    return rx.vstack(
        rx.hstack(
            rx.heading(job.title, as_="h2", size="5"),
            rx.box(status_badge(job.status)),
            rx.spacer(),
            job_actions(job, size="2"),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        rx.card(progress_cell(job), width="100%"),
        error_section(),
        rx.data_list.root(
            field("Job id", rx.code(job.id)),
            field("Kind", job.kind_label),
            field("Processed", job.counts),
            rx.cond(job.active, field("Speed", job.speed)),
            rx.cond(job.active, field("Time left", job.eta)),
            rx.cond(job.active, rx.fragment(), field("Duration", job.duration)),
            field("Created", job.created_text),
            field("Started", job.started_text),
            field("Updated", job.updated_text),
            field("Finished", job.completed_text),
        ),
        result_section(),
        ai_results(),
        # A failure's technical details (its traceback) are for administrators only: they stay
        # in the database (`jobs.to_public(job, include_details=True)`), never on this page.
        spacing="4",
        width="100%",
        custom_attrs={"data-job-id": job.id},
    )


@rx.page(route="/tasks/[job_id]", title="Job · Jobboard", on_load=on_load(JobDetailState.load))
def job_detail() -> rx.Component:
    return page(
        "Job",
        rx.cond(
            S.found,
            details(),
            rx.callout(
                "No such job, or it is not yours.", icon="triangle-alert", color_scheme="red"
            ),
        ),
        actions=link_button("All tasks", href="/tasks", variant="soft"),
    )

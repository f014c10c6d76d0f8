"""Job page: every field of one job, live."""

from __future__ import annotations

import reflex as rx

from jobboard.components.actions import job_actions
from jobboard.components.job import progress_cell, status_badge
from jobboard.components.layout import link_button, on_load, page
from jobboard.components.live import LiveTime, live_text
from jobboard.components.time import local_time
from jobboard.state.jobs import JobDetailState
from jobboard.state.review import THRESHOLDS, ReviewRow, ReviewState

S = JobDetailState


def field(label: str, value: rx.Var | str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def count_card(word: str, value: rx.Var[str], color: str) -> rx.Component:
    return rx.card(
        rx.text(word + " ", value, size="5", weight="bold", color_scheme=color),
        custom_attrs={"data-count": word},
    )


def _row_list(
    heading: str,
    rows: rx.Var,
    columns: list[tuple[str, str]],
    table_id: str,
    count: rx.Var,
    count_text: rx.Var,
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
                    count_text,
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
                count_card("unchanged", S.unchanged, "gray"),
                count_card("skipped", S.skipped_text, "amber"),
                spacing="3",
                wrap="wrap",
            ),
            rx.text(
                S.filename,
                " · ",
                S.file_format,
                rx.cond(S.encoding != "", " · " + S.encoding, ""),
                " · ",
                S.total_rows,
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
                S.skipped_text,
                "skipped rows",
            ),
            _row_list(
                "Rows imported with a warning",
                S.row_warnings,
                [("Row", "row"), ("Warning", "message")],
                "row-warnings",
                S.warnings_count,
                S.warnings_text,
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


R = ReviewState


def decision_badge(row: rx.Var[ReviewRow]) -> rx.Component:
    return rx.badge(
        rx.match(row.decision, ("accepted", "Accepted"), ("rejected", "Rejected"), "To review"),
        color_scheme=rx.match(row.decision, ("accepted", "green"), ("rejected", "red"), "gray"),
        custom_attrs={"data-decision": row.decision},
    )


def review_value(row: rx.Var[ReviewRow]) -> rx.Component:
    """The proposed value, changeable: another category, or an edited description."""
    return rx.cond(
        R.review_field == "category",
        rx.select(
            S.category_choices,
            value=row.value,
            on_change=lambda v: R.change(row.product_id, v),
            size="1",
            aria_label="Category for " + row.title,
        ),
        rx.text_area(
            default_value=row.value,
            on_blur=lambda v: R.change(row.product_id, v),
            rows="4",
            width="100%",
            aria_label="Description for " + row.title,
        ),
    )


def review_row(row: rx.Var[ReviewRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.title),
        rx.table.cell(review_value(row), min_width="14em"),
        rx.table.cell(row.confidence),
        rx.table.cell(
            rx.hstack(
                decision_badge(row),
                rx.button(
                    "Accept",
                    size="1",
                    variant="soft",
                    color_scheme="green",
                    on_click=R.decide(row.product_id, "accepted"),
                    custom_attrs={"data-action": "accept"},
                ),
                rx.button(
                    "Reject",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=R.decide(row.product_id, "rejected"),
                    custom_attrs={"data-action": "reject"},
                ),
                spacing="2",
                align="center",
            )
        ),
        custom_attrs={"data-review-product": row.product_id},
    )


def review_section() -> rx.Component:
    """Categories or descriptions to review: threshold, per-row decisions, apply, undo."""
    return rx.cond(
        R.review_field != "",
        rx.vstack(
            rx.heading("Review before applying", size="4", as_="h2"),
            rx.text(
                "Nothing changes in the catalog until you apply. Accept, reject or change "
                "each row (or accept everything shown at once), then apply the accepted rows.",
                size="2",
                color_scheme="gray",
            ),
            rx.flex(
                rx.cond(
                    R.review_field == "category",
                    rx.hstack(
                        rx.text("Hide below confidence", size="2"),
                        rx.select(
                            THRESHOLDS,
                            value=R.threshold,
                            on_change=R.set_threshold,
                            size="1",
                            aria_label="Confidence threshold",
                            id="review-threshold",
                        ),
                        rx.text(
                            R.hidden_text,
                            " hidden",
                            size="2",
                            color_scheme="gray",
                            id="review-hidden",
                        ),
                        align="center",
                    ),
                ),
                rx.button(
                    "Accept all ",
                    R.shown_text,
                    " shown",
                    variant="soft",
                    on_click=R.accept_shown,
                    id="accept-shown",
                ),
                rx.button(
                    "Apply ",
                    R.accepted_text,
                    " accepted",
                    on_click=R.apply_reviewed,
                    disabled=R.accepted_count == 0,
                    custom_attrs={"data-action": "apply"},
                ),
                rx.cond(
                    R.can_undo,
                    rx.button(
                        rx.icon("undo-2"),
                        "Undo last apply",
                        variant="outline",
                        on_click=R.undo_last_apply,
                        id="undo-apply",
                    ),
                ),
                spacing="3",
                wrap="wrap",
                align="center",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Product"),
                        rx.table.column_header_cell(
                            rx.cond(R.review_field == "category", "Category", "Description")
                        ),
                        rx.table.column_header_cell("Confidence"),
                        rx.table.column_header_cell("Decision"),
                    )
                ),
                rx.table.body(rx.foreach(R.review_rows, review_row)),
                variant="surface",
                size="1",
                width="100%",
                id="review-table",
            ),
            rx.cond(
                R.review_pages > 1,
                rx.hstack(
                    rx.button("Previous", on_click=R.prev_review_page, variant="soft", size="1"),
                    rx.text(R.review_page_text),
                    rx.button("Next", on_click=R.next_review_page, variant="soft", size="1"),
                    align="center",
                ),
            ),
            width="100%",
            spacing="3",
        ),
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
        review_section(),
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
            high_contrast=True,  # orange text on its tint is below AA
            id="job-error",
            width="100%",
        ),
    )


def retry_links() -> rx.Component:
    """A retry names its original, and the original its retry, both ways."""
    job = S.job
    return rx.fragment(
        rx.cond(
            job.retry_of != "",
            rx.text(
                "This is a retry of ",
                rx.link("the original job", href="/tasks/" + job.retry_of, id="retry-of"),
                ".",
                size="2",
            ),
        ),
        rx.cond(
            job.retried_by != "",
            rx.text(
                "This job was retried: ",
                rx.link("open the retry", href="/tasks/" + job.retried_by, id="retried-by"),
                ".",
                size="2",
            ),
        ),
    )


def outcome_section() -> rx.Component:
    """First under the title: how the job ended (or where it is), and what to do next."""
    job = S.job
    return rx.vstack(
        rx.hstack(
            rx.box(status_badge(job.outcome, job.color, job.status)),
            rx.text(job.kind_label, size="2", color_scheme="gray"),
            rx.spacer(),
            job_actions(job, size="2"),
            rx.cond(
                job.skipped_url != "",
                # A plain link (not the client router), styled as a button: the API serves
                # the file to this browser's session.
                rx.button(
                    rx.el.a(
                        rx.icon("download", size=14),
                        "Download skipped rows (CSV)",
                        href=job.skipped_url,
                        download="",
                        id="download-skipped",
                        # Reflex renders links through the client router: load the file
                        # as a document instead, so the browser downloads it.
                        custom_attrs={"reloadDocument": True},
                    ),
                    as_child=True,
                    size="2",
                    variant="soft",
                    color_scheme="amber",
                    high_contrast=True,  # amber text on its soft tint is 4.1:1, below AA
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        # Where the job is (or, once ended, where it stopped: "Failed while importing …").
        rx.card(progress_cell(job), width="100%", id="job-progress"),
        retry_links(),
        error_section(),
        spacing="3",
        width="100%",
        id="job-outcome",
    )


def metadata() -> rx.Component:
    job = S.job
    return rx.vstack(
        rx.heading("Details", as_="h2", size="3"),
        rx.data_list.root(
            field("Job id", rx.code(job.id)),
            field("Kind", job.kind_label),
            field("Processed", live_text(job.id, job.version, "counts", job.counts)),
            rx.cond(job.active, field("Speed", live_text(job.id, job.version, "speed", job.speed))),
            rx.cond(job.active, field("Time left", live_text(job.id, job.version, "eta", job.eta))),
            rx.cond(job.active, rx.fragment(), field("Duration", job.duration)),
            field("Created", local_time(job.created_at, fallback="—")),
            field("Started", local_time(job.started_at, fallback="—")),
            field(
                "Updated",
                LiveTime.create(
                    job_id=job.id,
                    version=job.version,
                    name="updated_at",
                    value=job.updated_at,
                    fallback="—",
                ),
            ),
            field("Finished", local_time(job.completed_at, fallback="—")),
        ),
        width="100%",
        id="job-metadata",
    )


def details() -> rx.Component:
    job = S.job
    return rx.vstack(
        outcome_section(),
        result_section(),
        ai_results(),
        metadata(),
        # A failure's technical details (its traceback) are for administrators only: they stay
        # in the database (`jobs.to_public(job, include_details=True)`), never on this page.
        spacing="5",
        width="100%",
        custom_attrs={"data-job-id": job.id},
    )


@rx.page(
    route="/tasks/[job_id]",
    title="Job · Jobboard",
    on_load=on_load(JobDetailState.load, ReviewState.load),
)
def job_detail() -> rx.Component:
    return page(
        rx.cond(S.found & (S.job.title != ""), S.job.title, "Job"),
        rx.cond(
            S.found,
            details(),
            rx.callout(
                "No such job, or it is not yours.", icon="triangle-alert", color_scheme="red"
            ),
        ),
        actions=link_button("All tasks", href="/tasks", variant="soft"),
    )

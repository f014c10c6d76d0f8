"""History page: per job kind, jobs over time by outcome, failure rate and run times."""

from __future__ import annotations

import reflex as rx
from reflex.vars.function import FunctionStringVar

from jobboard.components.layout import on_load, page
from jobboard.state.history import WINDOW_WORDS, HistoryState, KindHistory
from jobboard.state.session import StaticPageState

OUTCOME_COLORS = (
    ("completed", "Completed", "var(--green-9)"),
    ("failed", "Failed", "var(--red-9)"),
    ("cancelled", "Cancelled", "var(--gray-8)"),
)


def window_selector() -> rx.Component:
    return rx.segmented_control.root(
        *(rx.segmented_control.item(words, value=key) for key, words in WINDOW_WORDS.items()),
        value=HistoryState.window,
        on_change=HistoryState.set_window,
        id="history-window",
    )


def figure(label: str, value: rx.Var, field: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="4", weight="bold", custom_attrs={"data-field": field}),
        spacing="0",
    )


# Axis ticks and tooltip values in the browser's number format ("1 000", "0,075 s" in Czech),
# as the server's formatter writes the figures above the charts.
COUNT_FORMAT = FunctionStringVar.create("((v) => new Intl.NumberFormat().format(v))")
SECONDS_FORMAT = FunctionStringVar.create(
    "((v) => v == null ? '' : "
    "new Intl.NumberFormat(undefined, {maximumFractionDigits: 3}).format(v) + '\u00a0s')"
)


def jobs_chart(kind: rx.Var[KindHistory]) -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(
            data_key="label", tick_line=False, min_tick_gap=12, interval="preserveEnd"
        ),
        rx.recharts.y_axis(allow_decimals=False, width=40, tick_formatter=COUNT_FORMAT),
        rx.recharts.graphing_tooltip(formatter=COUNT_FORMAT),
        rx.recharts.legend(),
        *(
            rx.recharts.bar(
                data_key=key, name=name, stack_id="outcome", fill=color, is_animation_active=False
            )
            for key, name, color in OUTCOME_COLORS
        ),
        data=kind.series,
        width="100%",
        height=220,
    )


def duration_chart(kind: rx.Var[KindHistory]) -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(
            data_key="label", tick_line=False, min_tick_gap=12, interval="preserveEnd"
        ),
        rx.recharts.y_axis(width=64, tick_formatter=SECONDS_FORMAT),
        rx.recharts.graphing_tooltip(formatter=SECONDS_FORMAT),
        rx.recharts.legend(),
        rx.recharts.line(
            data_key="p50",
            name="p50 (median)",
            stroke="var(--accent-9)",
            connect_nulls=True,
            is_animation_active=False,
        ),
        rx.recharts.line(
            data_key="p95",
            name="p95",
            stroke="var(--orange-9)",
            connect_nulls=True,
            is_animation_active=False,
        ),
        data=kind.series,
        width="100%",
        height=220,
    )


def kind_card(kind: rx.Var[KindHistory]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(kind.label, as_="h2", size="4"),
            rx.hstack(
                figure("Jobs ended", kind.total_text, "total"),
                figure("Completed", kind.completed_text, "completed"),
                figure("Failed", kind.failed_text, "failed"),
                figure("Cancelled", kind.cancelled_text, "cancelled"),
                figure("Failure rate", kind.failure_text, "failure-rate"),
                figure("Run time p50", kind.p50_text, "p50"),
                figure("Run time p95", kind.p95_text, "p95"),
                spacing="6",
                wrap="wrap",
            ),
            rx.grid(
                rx.vstack(
                    rx.text("Jobs ", HistoryState.bucket_words, size="2", weight="medium"),
                    jobs_chart(kind),
                    width="100%",
                    custom_attrs={"data-chart": "jobs"},
                ),
                rx.vstack(
                    rx.text("Run time of completed jobs (seconds)", size="2", weight="medium"),
                    rx.cond(
                        kind.p50_text != "–",
                        duration_chart(kind),
                        rx.center(
                            rx.text(
                                "No job of this kind completed in this period.",
                                size="2",
                                color_scheme="gray",
                            ),
                            height="220px",
                            width="100%",
                        ),
                    ),
                    width="100%",
                    custom_attrs={"data-chart": "duration"},
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-kind": kind.kind},
    )


def body() -> rx.Component:
    return rx.cond(
        HistoryState.loading,
        rx.hstack(
            rx.spinner(size="3"),
            rx.text("Loading the history…", color_scheme="gray"),
            align="center",
            spacing="3",
            id="history-loading",
        ),
        rx.cond(
            HistoryState.error != "",
            rx.callout(
                HistoryState.error, icon="triangle_alert", color_scheme="red", id="history-error"
            ),
            rx.cond(
                HistoryState.kinds.length() > 0,
                rx.vstack(
                    rx.foreach(HistoryState.kinds, kind_card),
                    spacing="4",
                    width="100%",
                    id="history-kinds",
                ),
                rx.callout(
                    HistoryState.empty_words,
                    icon="info",
                    width="100%",
                    id="history-empty",
                ),
            ),
        ),
    )


@rx.page(
    route="/history",
    title="History · Jobboard",
    on_load=on_load(StaticPageState.enter, HistoryState.load),
)
def history() -> rx.Component:
    return page(
        "History",
        rx.text(
            "Jobs counted when they end; run times are those of completed jobs "
            "(median and 95th percentile).",
            color_scheme="gray",
            size="2",
        ),
        body(),
        actions=window_selector(),
    )

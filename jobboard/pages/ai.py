"""AI page: catalog jobs that run offline, and descriptions through an AI provider."""

from __future__ import annotations

import reflex as rx

from jobboard.components.catalog import catalog_table
from jobboard.components.layout import on_load, page
from jobboard.state.ai import MATCH_UPLOAD_ID, AIState
from jobboard.state.products import ProductsState

S = AIState


def scope_picker() -> rx.Component:
    """The catalog table itself: what is selected (or matches) is what the jobs run over."""
    return rx.card(
        rx.vstack(
            rx.heading("Which products", size="4", as_="h2"),
            catalog_table(),
            rx.text(
                "The jobs below run over: ",
                rx.text.strong(ProductsState.scope_text),
                size="2",
                id="scope-summary",
            ),
            width="100%",
        ),
        width="100%",
    )


def job_card(title: str, text: str, *body: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, as_="h2", size="4"),
            rx.text(text, size="2", color_scheme="gray"),
            *body,
            spacing="3",
            height="100%",
        ),
        width="100%",
    )


def cards() -> rx.Component:
    return rx.grid(
        job_card(
            "Find duplicate products",
            "Groups near-identical products (same item listed twice, other words) with a "
            "similarity score. Runs here, no provider needed.",
            rx.hstack(
                rx.text("Strictness", size="2"),
                rx.select(
                    ["0.95", "0.92", "0.88", "0.84", "0.80"],
                    value=S.threshold,
                    on_change=S.set_threshold,
                    size="1",
                    custom_attrs={"aria-label": "Strictness"},
                ),
                align="center",
            ),
            rx.button("Find duplicates", on_click=S.start_duplicates, id="start-duplicates"),
        ),
        job_card(
            "Auto-categorize",
            "Assigns each product to one of your categories, with a confidence. You review the "
            "result, accept or change each, then apply.",
            rx.text(
                "Your categories, separated by commas", as_="label", size="2", html_for="categories"
            ),
            rx.text_area(
                placeholder="Shirts, Pants, Hats, Kitchen…",
                value=S.categories_text,
                on_change=S.set_categories_text,
                id="categories",
                width="100%",
            ),
            rx.button("Categorize", on_click=S.start_categorize, id="start-categorize"),
        ),
        job_card(
            "Auto-match a file",
            "Matches the rows of a supplier or marketplace file against your catalog: exact SKU "
            "first, then by meaning. Says what matched, what is ambiguous and what is new.",
            rx.upload.root(
                rx.hstack(
                    rx.icon("file-search", size=18),
                    rx.foreach(
                        rx.selected_files(MATCH_UPLOAD_ID),
                        lambda name: rx.text(name, size="2", weight="medium"),
                    ),
                    rx.text("Choose or drop a CSV / JSON file", size="2"),
                    spacing="2",
                ),
                id=MATCH_UPLOAD_ID,
                max_files=1,
                custom_attrs={"data-file-label": "Supplier or marketplace file to match"},
                border="1px dashed var(--accent-7)",
                border_radius="8px",
                padding="0.8em",
                width="100%",
            ),
            rx.button(
                "Match",
                on_click=S.start_match(rx.upload_files(upload_id=MATCH_UPLOAD_ID)),
                id="start-match",
            ),
        ),
        job_card(
            "Write product descriptions",
            "Drafts a description for each product in scope (up to 200) through your AI "
            "provider, streamed live. Review, then apply.",
            rx.cond(
                S.provider_ready,
                rx.text(S.provider_message, size="1", color_scheme="green"),
                rx.callout(
                    S.provider_message,
                    icon="key-round",
                    color_scheme="orange",
                    high_contrast=True,  # orange text on its tint is below AA
                    size="1",
                    id="provider-missing",
                ),
            ),
            rx.el.label(
                rx.text("Tone or extra instructions (optional)", size="2"),
                rx.input(
                    placeholder="e.g. friendly, under 60 words",
                    value=S.instructions,
                    on_change=S.set_instructions,
                    width="100%",
                ),
                width="100%",
            ),
            rx.button(
                "Write descriptions",
                on_click=S.start_describe,
                disabled=~S.provider_ready,
                id="start-describe",
            ),
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


@rx.page(route="/ai", title="AI · Jobboard", on_load=on_load(AIState.load, ProductsState.load))
def ai() -> rx.Component:
    return page(
        "AI over the catalog",
        scope_picker(),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle-alert", color_scheme="red", id="ai-error"),
        ),
        cards(),
    )

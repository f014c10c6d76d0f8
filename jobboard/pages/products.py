"""Products page: the owner's catalog — search, filter, sort, select, export."""

from __future__ import annotations

import reflex as rx

from jobboard.components.catalog import catalog_table
from jobboard.components.layout import link_button, on_load, page
from jobboard.state.products import EXPORT_FORMATS, ProductsState


def export_buttons() -> rx.Component:
    """Export the selection (or what the filters match); the finished job offers the file."""
    return rx.hstack(
        *(
            rx.button(
                rx.icon("download"),
                f"Export as {label}",
                variant="soft",
                id=f"export-{fmt}",
                on_click=ProductsState.export(fmt),
            )
            for fmt, label in EXPORT_FORMATS.items()
        ),
        link_button(
            rx.icon("sparkles"),
            "AI jobs on these",
            href=ProductsState.ai_url,
            variant="soft",
            id="open-ai",
        ),
        spacing="2",
    )


@rx.page(route="/products", title="Products · Jobboard", on_load=on_load(ProductsState.load))
def products() -> rx.Component:
    return page(
        "Products",
        catalog_table(),
        rx.text(
            "Export and AI jobs run over: ",
            rx.text.strong(ProductsState.scope_text),
            size="2",
            color_scheme="gray",
            id="scope-summary",
        ),
        actions=export_buttons(),
    )

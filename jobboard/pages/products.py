"""Products page: the owner's catalog, paginated."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import on_load, page, pager
from jobboard.components.time import local_time
from jobboard.core.exports import EXPORT_FORMATS
from jobboard.state.products import ProductRow, ProductsState

COLUMNS = ("Title", "SKU", "Vendor", "Type", "Price", "Variants", "Tags", "Updated")


def product_row(p: rx.Var[ProductRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(p.title, weight="medium"), rx.text(p.handle, size="1", color_scheme="gray")
        ),
        rx.table.cell(rx.code(p.sku)),
        rx.table.cell(p.vendor),
        rx.table.cell(p.product_type),
        rx.table.cell(p.price),
        rx.table.cell(p.variants),
        rx.table.cell(rx.text(p.tags, size="1")),
        rx.table.cell(rx.text(local_time(p.updated), size="1", color_scheme="gray")),
        custom_attrs={"data-product-key": p.key},
    )


def export_buttons() -> rx.Component:
    """Export the whole catalog; the finished job offers the file."""
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
        spacing="2",
    )


@rx.page(route="/products", title="Products · Jobboard", on_load=on_load(ProductsState.load))
def products() -> rx.Component:
    return page(
        "Products",
        rx.cond(
            ProductsState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(c) for c in COLUMNS))),
                rx.table.body(rx.foreach(ProductsState.rows, product_row)),
                width="100%",
                variant="surface",
                id="products-table",
            ),
            rx.callout("The catalog is empty. Upload a product file to fill it.", icon="info"),
        ),
        pager(
            ProductsState.page,
            ProductsState.page_count,
            ProductsState.total,
            ProductsState.prev_page,
            ProductsState.next_page,
            ("product", "products"),
        ),
        actions=export_buttons(),
    )

"""The catalog table: search, filters, sort, selection and pages — on /products and /ai alike."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import card_cell
from jobboard.components.time import local_time
from jobboard.state.products import ANY, SORTS, ProductRow, ProductsState

S = ProductsState
COLUMNS = ("Title", "SKU", "Vendor", "Type", "Category", "Price", "Variants", "Tags", "Updated")
SKELETON_ROWS = 6


def facet_select(field: str, label: str, value: rx.Var, options: rx.Var) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=label, aria_label=label),
        rx.select.content(
            rx.select.item(f"Any {label.lower()}", value=ANY),
            rx.foreach(options, lambda o: rx.select.item(o, value=o)),
        ),
        value=rx.cond(value == "", ANY, value),
        on_change=lambda v: S.set_filter(field, v),
        size="2",
        custom_attrs={"data-filter": field},
    )


def toolbar() -> rx.Component:
    return rx.flex(
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    name="q",
                    default_value=S.q,
                    key=S.q,  # a new URL's search replaces what was typed
                    placeholder="Search title or SKU",
                    aria_label="Search products by title or SKU",
                    id="product-search",
                    max_length=200,
                    width="16em",
                ),
                rx.button("Search", type="submit", variant="soft", id="product-search-submit"),
                spacing="2",
            ),
            on_submit=S.search,
            reset_on_submit=False,
        ),
        facet_select("vendor", "Vendor", S.vendor, S.vendors),
        facet_select("product_type", "Type", S.product_type, S.types),
        facet_select("category", "Category", S.category, S.categories),
        rx.select.root(
            rx.select.trigger(aria_label="Sort by"),
            rx.select.content(*(rx.select.item(label, value=k) for k, label in SORTS.items())),
            value=S.sort,
            on_change=S.set_sort,
            size="2",
            custom_attrs={"data-filter": "sort"},
        ),
        rx.cond(
            S.filtered,
            rx.button(
                "Clear filters", variant="ghost", on_click=S.clear_filters, id="clear-filters"
            ),
        ),
        spacing="3",
        wrap="wrap",
        align="center",
        width="100%",
    )


def selection_bar() -> rx.Component:
    """How many are selected, and "select all N matching" once a whole page is."""
    return rx.hstack(
        # The header's "Select this page" is out of sight when the table is stacked cards
        # (below 640 px): phones get this one instead (assets/jobboard.css).
        rx.el.label(
            rx.checkbox(
                checked=S.page_selected,
                on_change=S.toggle_page,
                aria_label="Select this page",
                id="select-page-phone",
            ),
            rx.text("Select this page", size="2"),
            class_name="jb-choice jb-phone-only",
        ),
        rx.text(
            rx.cond(
                S.all_matching,
                rx.fragment("All matching products are selected (", S.total_text, ")."),
                rx.fragment(S.selected_text, " selected."),
            ),
            size="2",
            id="selection-count",
        ),
        rx.cond(
            S.page_selected & ~S.all_matching & (S.total > S.rows.length()),
            rx.button(
                "Select all matching (",
                S.total_text,
                ")",
                variant="soft",
                size="1",
                on_click=S.select_all_matching,
                id="select-all-matching",
            ),
        ),
        rx.cond(
            S.all_matching | (S.selected_ids.length() > 0),
            rx.button(
                "Clear selection",
                variant="ghost",
                size="1",
                on_click=S.clear_selection,
                id="clear-selection",
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
    )


def product_row(p: rx.Var[ProductRow]) -> rx.Component:
    return rx.table.row(
        card_cell(
            "select",
            rx.checkbox(
                checked=S.all_matching | S.selected_ids.contains(p.id),
                disabled=S.all_matching,
                on_change=lambda checked: S.toggle(p.id, checked),
                aria_label="Select " + p.title,
            ),
            bare=True,
        ),
        card_cell(
            "title",
            rx.text(p.title, weight="medium"),
            rx.text(p.handle, size="1", color_scheme="gray"),
            bare=True,
        ),
        card_cell("sku", rx.code(p.sku), empty=p.sku == "", bare=True),
        card_cell("vendor", p.vendor, empty=p.vendor == ""),
        card_cell("type", p.product_type, empty=p.product_type == ""),
        card_cell("category", p.category, empty=p.category == ""),
        card_cell("price", p.price, empty=p.price == "", bare=True),
        card_cell("variants", p.variants, empty=p.variants == "—"),
        card_cell("tags", rx.text(p.tags, size="1"), empty=p.tags == ""),
        card_cell("updated", rx.text(local_time(p.updated), size="1", color_scheme="gray")),
        custom_attrs={"data-product-key": p.key, "data-product-id": p.id},
    )


def skeleton_rows() -> rx.Component:
    return rx.table.body(
        *(
            rx.table.row(
                *(rx.table.cell(rx.skeleton(rx.text("…"), loading=True)) for _ in range(6))
            )
            for _ in range(SKELETON_ROWS)
        ),
        id="products-loading",
    )


def empty_state() -> rx.Component:
    return rx.cond(
        S.filtered,
        rx.callout(
            "No products match " + S.filter_words + ".", icon="search-x", id="products-no-match"
        ),
        rx.callout(
            "The catalog is empty. Upload a product file to fill it.",
            icon="info",
            id="products-empty",
        ),
    )


def catalog_pager() -> rx.Component:
    """Previous / next, the page, and the total ("more than 10,000" past the counting cap)."""
    return rx.hstack(
        rx.text(S.total_text, color_scheme="gray", size="2", id="total-count"),
        rx.spacer(),
        rx.button(
            "Previous", on_click=S.prev_page, disabled=S.page <= 1, variant="soft", id="prev-page"
        ),
        rx.text(
            S.page_text,
            size="2",
        ),
        rx.button(
            "Next",
            on_click=S.next_page,
            disabled=S.page >= S.page_count,
            variant="soft",
            id="next-page",
        ),
        align="center",
        width="100%",
        spacing="3",
    )


def catalog_table() -> rx.Component:
    """Toolbar, selection, the table (a skeleton until the first page arrives) and pager."""
    header = rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(
                rx.checkbox(
                    checked=S.page_selected,
                    on_change=S.toggle_page,
                    aria_label="Select this page",
                    id="select-page",
                )
            ),
            *(rx.table.column_header_cell(c) for c in COLUMNS),
        )
    )
    return rx.vstack(
        toolbar(),
        rx.cond(
            S.message != "",
            rx.callout(
                S.message,
                icon="triangle-alert",
                color_scheme="orange",
                high_contrast=True,  # orange text on its tint is below AA
                id="filter-message",
            ),
        ),
        rx.cond(
            ~S.loaded,
            rx.table.root(skeleton_rows(), width="100%", variant="surface"),
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(
                    selection_bar(),
                    rx.box(
                        rx.table.root(
                            header,
                            rx.table.body(rx.foreach(S.rows, product_row)),
                            width="100%",
                            variant="surface",
                            id="products-table",
                            # Compact cards below 640 px (assets/jobboard.css).
                            class_name="jb-compact jb-catalog",
                        ),
                        width="100%",
                        overflow_x="auto",
                    ),
                    width="100%",
                ),
                empty_state(),
            ),
        ),
        rx.cond(
            S.loaded,
            catalog_pager(),
        ),
        width="100%",
        spacing="3",
    )

"""Upload page: pick or drop a product file, submit, follow it on the Tasks page."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import on_load, page
from jobboard.components.notifications import notification_permission_banner
from jobboard.core.settings import get_settings
from jobboard.state.session import StaticPageState
from jobboard.state.upload import UPLOAD_ID, UploadState, max_upload_text


def dropzone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.icon("file-up", size=36, color="var(--accent-9)"),
            rx.text("Drag a product file here, or click to choose one", weight="medium"),
            rx.text(
                f"Shopify product export, any CSV with SKU / title / price columns, or a JSON "
                f"array · up to {max_upload_text()}",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(
                rx.selected_files(UPLOAD_ID),
                lambda name: rx.badge(rx.icon("file"), name, size="2", id="selected-file"),
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        multiple=False,
        max_files=1,
        max_size=get_settings().max_upload_bytes,
        accept={
            "text/csv": [".csv", ".tsv", ".txt"],
            "application/json": [".json"],
            "application/vnd.ms-excel": [".csv"],
        },
        on_drop_rejected=UploadState.rejected,
        border="2px dashed var(--accent-7)",
        border_radius="12px",
        padding="3em",
        width="100%",
        cursor="pointer",
        background="var(--color-panel-solid)",
    )


@rx.page(route="/upload", title="Upload · Jobboard", on_load=on_load(StaticPageState.enter))
def upload() -> rx.Component:
    return page(
        "Upload products",
        notification_permission_banner(),
        rx.text(
            "The import runs in the background: you can leave this page and follow it on the "
            "Tasks page.",
            color_scheme="gray",
        ),
        dropzone(),
        rx.cond(
            UploadState.error != "",
            rx.callout(
                UploadState.error, icon="triangle-alert", color_scheme="red", id="upload-error"
            ),
        ),
        rx.hstack(
            rx.button(
                rx.icon("upload"),
                "Start import",
                id="upload-submit",
                size="3",
                loading=UploadState.busy,
                on_click=UploadState.submit(rx.upload_files(upload_id=UPLOAD_ID)),
            ),
            rx.button(
                "Clear",
                variant="soft",
                color_scheme="gray",
                size="3",
                on_click=rx.clear_selected_files(UPLOAD_ID),
            ),
            spacing="3",
        ),
    )

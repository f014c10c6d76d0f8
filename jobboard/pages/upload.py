"""Upload page: pick or drop a product file, submit, follow it on the Tasks page."""

from __future__ import annotations

import reflex as rx

from jobboard.components.layout import on_load, page
from jobboard.components.notifications import notification_permission_banner
from jobboard.core import uploads
from jobboard.state.session import StaticPageState
from jobboard.state.upload import UPLOAD_ID, UploadState


def _describe_rejections(rejected: rx.Var) -> rx.Var:
    """Only names, sizes and error codes go to the server, never the File objects.

    react-dropzone hands over each refused File; sent as is, socket.io ships the file's bytes
    as a binary attachment, and the server drops the websocket once that passes its message
    size limit (or the handler receives bytes instead of a description).
    """
    return rx.Var(
        f"(Array.isArray({rejected}) ? {rejected} : []).slice(0, 10).map((r) => ({{"
        "name: String(r?.file?.name ?? ''), size: Number(r?.file?.size ?? 0), "
        "codes: (r?.errors ?? []).map((e) => String(e?.code ?? ''))}))",
        _var_type=list[dict],
    )


def dropzone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.icon("file-up", size=36, color="var(--accent-9)"),
            rx.text("Drag a product file here, or click to choose one", weight="medium"),
            rx.text(uploads.hint_text(), size="2", color_scheme="gray", id="upload-hint"),
            rx.foreach(
                rx.selected_files(UPLOAD_ID),
                lambda name: rx.badge(rx.icon("file"), name, size="2", id="selected-file"),
            ),
            align="center",
            spacing="2",
        ),
        id=UPLOAD_ID,
        custom_attrs={"data-file-label": "Product file to import"},
        multiple=False,
        max_files=1,
        max_size=uploads.max_bytes(),
        accept=uploads.ACCEPT,
        on_drop_rejected=lambda rejected: UploadState.rejected(_describe_rejections(rejected)),
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
        # A refused file leaves nothing selected; choosing another one hides the message.
        rx.cond(
            (UploadState.rejection != "") & (rx.selected_files(UPLOAD_ID).length() == 0),
            rx.callout(
                UploadState.rejection,
                icon="triangle-alert",
                color_scheme="red",
                id="upload-rejected",
                role="alert",
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

"""Upload page state: store the file, submit the job, go to the Tasks page."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from jobboard.core import jobs, uploads
from jobboard.state.session import current_user, sign_in_url

UPLOAD_ID = "product-upload"
log = logging.getLogger(__name__)

# The browser describes refused files with react-dropzone's error codes.
_TOO_LARGE, _WRONG_TYPE, _TOO_MANY = "file-too-large", "file-invalid-type", "too-many-files"


def rejection_message(files: Any) -> str:
    """Words for files the dropzone refused; `files` comes from the browser, so trust nothing."""
    items = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    if not items:
        return f"That file was not accepted: choose {uploads.ACCEPTED_TYPES_TEXT}."
    codes = {str(c) for f in items if isinstance(f.get("codes"), list) for c in f["codes"]}
    if _TOO_MANY in codes or len(items) > 1:
        return "Choose one file at a time."
    first = items[0]
    name = str(first.get("name") or "")
    size = first.get("size")
    if _WRONG_TYPE in codes:
        return uploads.wrong_type_message(name)
    if _TOO_LARGE in codes:
        return uploads.too_large_message(name, size if isinstance(size, int) else None)
    return f"{uploads.display_name(name)} was not accepted: choose {uploads.ACCEPTED_TYPES_TEXT}."


class UploadState(rx.State):
    error: str = ""
    # A file refused in the browser; shown until another file is chosen.
    rejection: str = ""
    busy: bool = False

    @rx.event
    def rejected(self, files: list[dict]) -> None:
        self.error = ""
        self.rejection = rejection_message(files)

    @rx.event
    async def submit(self, files: list[rx.UploadFile]):
        user = await current_user(self)  # uploads come over HTTP: check here too
        if user is None:
            return rx.redirect(sign_in_url("/upload"))
        self.error = ""
        self.rejection = ""
        if not files:
            self.error = f"Choose a product file first ({uploads.ACCEPTED_TYPES_TEXT})."
            return
        upload = files[0]
        try:
            stored = await asyncio.to_thread(
                uploads.store_upload, upload.file, upload.name, upload.content_type or ""
            )
        except uploads.UploadRefused as exc:
            self.error = str(exc)
            return
        except OSError:
            log.exception("storing an upload failed")
            self.error = "The file could not be saved on the server. Try again in a moment."
            return
        try:
            await asyncio.to_thread(
                jobs.submit,
                "product_upload",
                owner_id=user.id,
                title=stored.name,
                params={"path": str(stored.path), "filename": stored.name, "size": stored.size},
            )
        except Exception:
            log.exception("queueing an upload failed")
            uploads.discard(stored.path)
            self.error = "The upload could not be queued. Try again in a moment."
            return
        return [rx.clear_selected_files(UPLOAD_ID), rx.redirect("/tasks")]

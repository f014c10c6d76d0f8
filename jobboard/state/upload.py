"""Upload page state: store the file, submit the job, go to the Tasks page."""

from __future__ import annotations

import re
import uuid

import reflex as rx

from jobboard.core import jobs
from jobboard.core.settings import get_settings
from jobboard.state.session import owner_of

UPLOAD_ID = "product-upload"


def max_upload_text() -> str:
    return f"{get_settings().max_upload_bytes // (1024 * 1024)} MB"


def _safe_name(name: str) -> str:
    # Keep the user's name for display; the stored name only needs to be harmless.
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .") or "upload"
    return cleaned[:120]


class UploadState(rx.State):
    error: str = ""
    busy: bool = False

    @rx.event
    def rejected(self, files: list[dict]) -> None:
        names = ", ".join(str(f.get("file", {}).get("path") or "the file") for f in files)
        self.error = (
            f"{names} was not accepted: the limit is {max_upload_text()} and one file at a time."
        )

    @rx.event
    async def submit(self, files: list[rx.UploadFile]):
        self.error = ""
        if not files:
            self.error = "Choose a product file first (CSV, Shopify export or JSON)."
            return
        upload = files[0]
        name = upload.name or "upload"
        data = await upload.read()
        limit = get_settings().max_upload_bytes
        if len(data) > limit:
            self.error = (
                f"{name} is {len(data) / 1048576:.1f} MB; the limit is {max_upload_text()}."
            )
            return
        folder = get_settings().upload_dir / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _safe_name(name)
        path.write_bytes(data)
        try:
            jobs.submit(
                "product_upload",
                owner_id=owner_of(self),
                title=name,
                params={"path": str(path), "filename": name, "size": len(data)},
            )
        except Exception as exc:
            self.error = f"The upload could not be queued: {exc}"
            return
        return [rx.clear_selected_files(UPLOAD_ID), rx.redirect("/tasks")]

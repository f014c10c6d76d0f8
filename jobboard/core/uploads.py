"""Upload policy: what Jobboard accepts, how big, how a file is named on disk and on screen.

One place for every ingress (the upload page's state, API routes, the page's hint text, the
HTTP size guard). Knows nothing of Reflex or HTTP: sources are plain binary file objects.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from jobboard.core.format import human_size
from jobboard.core.settings import get_settings

CHUNK_BYTES = 256 * 1024
# What the browser's file picker offers and the dropzone accepts: a file passes if its MIME type
# or its extension is listed. Excel's .xls reports "application/vnd.ms-excel", so that type is
# deliberately absent (a .csv saved on Windows still passes by its extension).
ACCEPT: dict[str, list[str]] = {
    "text/csv": [".csv"],
    "text/tab-separated-values": [".tsv"],
    "text/plain": [".txt"],
    "application/json": [".json"],
}
ACCEPTED_EXTENSIONS: tuple[str, ...] = tuple(ext for exts in ACCEPT.values() for ext in exts)
ACCEPTED_TYPES_TEXT = "a CSV, TSV, TXT or JSON file"
FALLBACK_NAME = "upload"
MAX_DISPLAY_CHARS = 120
MAX_STORAGE_CHARS = 100
_MAX_COMBINING_RUN = 2


class UploadRefused(ValueError):
    """An upload Jobboard will not take; the message is meant for the user."""


class UploadTooLarge(UploadRefused):
    pass


def max_bytes() -> int:
    return get_settings().max_upload_bytes


def limit_text() -> str:
    return human_size(max_bytes())


def hint_text() -> str:
    """The dropzone's line under its title."""
    return (
        "Shopify product export, any CSV with SKU / title / price columns, or a JSON array · "
        f"up to {limit_text()}"
    )


def too_large_message(name: str, size: int | None = None) -> str:
    shown, limit = display_name(name), limit_text()
    if size is None or human_size(size) == limit:
        return f"{shown} is larger than the {limit} upload limit. Choose a smaller file."
    return f"{shown} is {human_size(size)}; the upload limit is {limit}. Choose a smaller file."


def wrong_type_message(name: str) -> str:
    return (
        f"{display_name(name)} is not a file Jobboard can import. Choose {ACCEPTED_TYPES_TEXT} "
        "(save Excel workbooks as CSV UTF-8 first)."
    )


def accepts(name: str, content_type: str = "") -> bool:
    """The browser's rule, for the server: an accepted extension or an accepted MIME type."""
    ext = os.path.splitext(_basename(name))[1].lower()
    mime = content_type.split(";", 1)[0].strip().lower()
    return ext in ACCEPTED_EXTENSIONS or mime in ACCEPT


def _basename(name: str) -> str:
    parts = [p for p in re.split(r"[/\\]", name or "") if p.strip()]
    return parts[-1] if parts else ""


def _shorten(text: str, limit: int, mark: str) -> str:
    """Cut to `limit` characters, keeping a short extension visible after `mark`."""
    if len(text) <= limit:
        return text
    stem, ext = os.path.splitext(text)
    if len(ext) > 10:
        stem, ext = text, ""
    return stem[: limit - len(mark) - len(ext)].rstrip() + mark + ext


def display_name(name: str | None) -> str:
    """What users see for a file name: one line of plain text.

    Basename only; Unicode control and format characters (bidi overrides and isolates,
    zero-width characters, BOM, soft hyphen) removed; whitespace collapsed; runs of combining
    marks bounded; at most MAX_DISPLAY_CHARS characters, cut with an ellipsis.
    """
    text = unicodedata.normalize("NFC", _basename(name or ""))
    kept: list[str] = []
    combining = 0
    for ch in text:
        if ch.isspace():
            kept.append(" ")
            combining = 0
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Cn"):
            continue
        combining = combining + 1 if category.startswith("M") else 0
        if combining <= _MAX_COMBINING_RUN:
            kept.append(ch)
    cleaned = " ".join("".join(kept).split())
    if not cleaned.strip(". "):
        return FALLBACK_NAME
    return _shorten(cleaned, MAX_DISPLAY_CHARS, "…")


def storage_name(name: str | None) -> str:
    """A harmless file name for the disk: letters, digits, `_ - .` and spaces only.

    No path parts, no control characters, no leading dot, bounded length, never empty.
    """
    text = unicodedata.normalize("NFC", display_name(name))
    cleaned = re.sub(r"[^\w.\- ]+", "_", text, flags=re.UNICODE)
    cleaned = re.sub(r"_{2,}", "_", cleaned).strip(" ._")
    if not cleaned:
        return FALLBACK_NAME
    return _shorten(cleaned, MAX_STORAGE_CHARS, "_")


def new_upload_path(name: str | None) -> Path:
    """A fresh folder of its own under the upload directory, and the file's path in it."""
    folder = get_settings().upload_dir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder / storage_name(name)


def discard(path: Path | str) -> None:
    """Remove a stored upload and its folder (uploads live one per folder)."""
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    upload_dir = get_settings().upload_dir.resolve()
    folder = path.parent
    if folder.resolve().parent == upload_dir:
        with contextlib.suppress(OSError):
            folder.rmdir()


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    name: str  # display_name of the user's file name
    size: int


def store_upload(
    source: BinaryIO, name: str | None, content_type: str = "", limit: int | None = None
) -> StoredUpload:
    """Copy an upload to its own folder in chunks, refusing it as soon as it passes the limit.

    Nothing half-written remains when it is refused or fails: the partial file and its folder
    are removed. Raises UploadRefused (a message for the user) for a refused file.
    """
    limit = max_bytes() if limit is None else limit
    if not accepts(name or "", content_type):
        raise UploadRefused(wrong_type_message(name or ""))
    path = new_upload_path(name)
    size = 0
    try:
        with path.open("xb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(too_large_message(name or ""))
                out.write(chunk)
    except BaseException:
        discard(path)
        raise
    return StoredUpload(path=path, name=display_name(name), size=size)

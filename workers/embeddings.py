"""Offline text embeddings with WordLlama: loaded once per process, never downloads.

The wheel ships its weights (``wordllama/weights/``) and tokenizer config
(``wordllama/tokenizers/``). ``WordLlama.load`` looks for the tokenizer under
``<cache_dir>/tokenizers/`` only, so a cache dir under the Jobboard var dir links (or, where
links are not possible, copies) both package folders, and downloads stay disabled.

Decisions worth knowing:

* Texts are cut to ``MAX_TOKENS`` tokens. WordLlama pads a batch to its longest text and has
  truncation off by default, so one product with a 50 KB HTML body would otherwise make a
  512-row batch allocate gigabytes.
* Texts are embedded in order of length (and put back in input order afterwards), so each
  batch is padded to about the length of its own texts, not the longest one overall.
* Rows are L2-normalised float32, so a dot product is the cosine similarity. An empty text
  gives a zero row (similarity 0 with everything), never NaN.
"""

from __future__ import annotations

import html
import importlib
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jobboard.core.settings import get_settings

if TYPE_CHECKING:
    from wordllama.inference import WordLlamaInference

BATCH_SIZE = 512  # texts per progress callback
INNER_BATCH = 128  # texts per WordLlama call: smaller padded arrays stay in cache (~15 % faster)
MAX_TOKENS = 96
DIM = 256
DESCRIPTION_CHARS = 200  # how much of a description goes into a product's text

_model: WordLlamaInference | None = None
_lock = threading.Lock()

_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" (?=[.,;:!?)])")
_DROP_BLOCKS_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def model_dir() -> Path:
    return get_settings().var_dir / "models" / "wordllama"


def _import_wordllama() -> Any:
    """`import wordllama`, whose modules call `logging.basicConfig(level=INFO)` on import:
    the process' own logging setup (root handlers and level) is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        module = importlib.import_module("wordllama")
        importlib.import_module("wordllama.inference")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return module


def _package_dir() -> Path:
    return Path(_import_wordllama().__file__).resolve().parent


def _link_or_copy(source: Path, target: Path) -> None:
    """Make `target` point at `source` (a folder); safe when several workers race."""
    if target.is_symlink() and target.resolve() == source.resolve():
        return
    if target.is_dir() and not target.is_symlink():
        # An earlier copy: refresh the files the package has and the copy lacks.
        for item in source.iterdir():
            if item.is_file() and not (target / item.name).exists():
                shutil.copy2(item, target / item.name)
        return
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        temp.symlink_to(source, target_is_directory=True)
    except OSError:  # no symlinks here (some mounts, Windows without rights)
        shutil.copytree(source, temp)
    try:
        os.replace(temp, target)  # atomic for links; replaces a stale link
    except OSError:
        if temp.is_symlink():
            temp.unlink()
        else:
            shutil.rmtree(temp, ignore_errors=True)
        if not target.exists():
            raise


def prepare_model_dir() -> Path:
    """The cache dir WordLlama reads, linked to the files the wheel ships."""
    package = _package_dir()
    folder = model_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("weights", "tokenizers"):
        _link_or_copy(package / name, folder / name)
    return folder


def get_model() -> WordLlamaInference:
    """The process' WordLlama model (loaded on first use, ~0.15 s)."""
    global _model
    if _model is not None:
        return _model
    with _lock:
        if _model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"  # a missing file must fail, never download
            model = _import_wordllama().WordLlama.load(
                cache_dir=prepare_model_dir(), disable_download=True, dim=DIM
            )
            model.tokenizer.enable_truncation(max_length=MAX_TOKENS)
            _model = model
    return _model


def embed(
    texts: Sequence[str],
    on_batch: Callable[[int, int], Any] | None = None,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text, in input order.

    `on_batch(done, total)` is called after each batch (a cancel raised there stops the work).
    """
    model = get_model()
    total = len(texts)
    out = np.zeros((total, DIM), dtype=np.float32)
    if total == 0:
        return out
    # Shortest first: each batch is padded only to the length of its own longest text.
    order = sorted(range(total), key=lambda i: len(texts[i]))
    done = 0
    for start in range(0, total, batch_size):
        idx = order[start : start + batch_size]
        filled = [i for i in idx if texts[i].strip()]  # blanks stay zero rows
        if filled:
            vectors = model.embed([texts[i] for i in filled], norm=False, batch_size=INNER_BATCH)
            out[filled] = np.asarray(vectors, np.float32)
        done += len(idx)
        if on_batch is not None:
            on_batch(done, total)
    return normalize(out)


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in place; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    vectors /= norms
    return vectors


def clean_text(value: str | None, limit: int | None = None) -> str:
    """Plain text from HTML or messy cells: tags dropped, entities decoded, spaces collapsed."""
    if not value:
        return ""
    if "<" in value:
        value = _DROP_BLOCKS_RE.sub(" ", value)
        value = _TAG_RE.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    value = _SPACE_RE.sub(" ", value).strip()
    value = _SPACE_BEFORE_PUNCT_RE.sub("", value)  # "<b>light</b>." left "light ."
    if limit is not None and len(value) > limit:
        cut = value[:limit]
        value = cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut
    return value


def product_text(p: Any) -> str:
    """The text a product is compared by: title, vendor, type, tags, start of description.

    Works for catalog products and parsed upload records alike (anything with these
    attributes; missing ones count as empty).
    """
    title = clean_text(getattr(p, "title", "") or "")
    parts = [title]
    for name in ("vendor", "product_type"):
        value = clean_text(getattr(p, name, "") or "")
        if value and value.casefold() not in title.casefold():
            parts.append(value)
    tags = getattr(p, "tags", None) or []
    if isinstance(tags, str):
        tags = [tags]
    tag_text = ", ".join(t for t in (clean_text(str(t)) for t in tags[:12]) if t)
    if tag_text:
        parts.append(tag_text)
    description = clean_text(getattr(p, "description", "") or "", DESCRIPTION_CHARS)
    if description:
        parts.append(description)
    return ". ".join(parts)

"""Plain-words formatting of counts, sizes, durations and prices: the one formatter that
pages, toasts, notifications and messages share (times are formatted in the browser, in the
user's zone and locale: see `components/time.py`)."""

from __future__ import annotations

MB = 1024 * 1024


def count(n: int | float | None) -> str:
    """A count with thousands separators: 300617 → "300,617"."""
    return f"{int(n or 0):,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 product", "9,000 products"."""
    return f"{count(n)} {word if n == 1 else (words or word + 's')}"


def progress_counts(processed: int | None, total: int | None) -> str:
    """ "75,999 / 300,000", or "" when the total is not known."""
    return f"{count(processed)} / {count(total)}" if total is not None else ""


def human_size(n: int) -> str:
    """Bytes the way limits are stated: "50 MB", "1.5 MB", "800 KB"."""
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def price(value: float | None) -> str:
    """A price with two decimals and thousands separators: 1234.5 → "1,234.50"."""
    return "" if value is None else f"{value:,.2f}"


def rate(per_second: float | None, unit: str) -> str:
    """ "1,250 rows/s"."""
    return f"{per_second:,.0f} {unit}/s" if per_second else ""


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{max(0.0, seconds):.1f} s"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"

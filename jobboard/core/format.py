"""Plain-words formatting of counts, sizes, durations and prices: the one formatter that
pages, toasts, notifications and messages share (times are formatted in the browser, in the
user's zone and locale: see `components/time.py`; only chart labels the server builds use
`short_date` and `clock`, on times already in the user's zone: `known_zone`).

Numbers follow the locale of the current context (`use_locale`): a Reflex session sets its
browser's locale around everything it formats (`jobboard.state.locale`); workers, the REST API
and webhooks keep the default, en-US, so what they store and send reads the same for everyone.
The words stay English: only digits, separators and decimal marks follow the locale.
"""

from __future__ import annotations

import contextlib
import re
import zoneinfo
from collections.abc import Iterator
from contextvars import ContextVar, Token
from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

MB = 1024 * 1024
DEFAULT_LOCALE = "en-US"

# BCP 47-ish: a language and a few short subtags. Anything else is not a locale we look up
# (babel loads locale data by file name).
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")
# An Accept-Language header longer than this is not a browser's.
_MAX_HEADER = 512
_MAX_TAGS = 12

# IANA zone names ("Europe/Prague", "America/Argentina/Buenos_Aires", "Etc/GMT+5"): what
# browsers report. Checked before the zone database is asked, which reads files by name.
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")
_MAX_ZONE = 64

_current: ContextVar[str] = ContextVar("jobboard_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=256)
def _parse(tag: str) -> Locale | None:
    if not _TAG.fullmatch(tag):
        return None
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _locale(tag: str | None = None) -> Locale:
    """The babel Locale of `tag` (default: the current context's), en-US when unknown."""
    return _parse(_current.get() if tag is None else tag) or _parse(DEFAULT_LOCALE)  # type: ignore[return-value]


def known_locale(tag: object) -> str:
    """`tag` normalised ("cs-CZ") when it names a locale we can format in, else en-US."""
    if not isinstance(tag, str) or len(tag) > 40:
        return DEFAULT_LOCALE
    locale = _parse(tag.strip())
    if locale is None:
        return DEFAULT_LOCALE
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


def negotiate(accept_language: object) -> str:
    """The first locale we can format in from an Accept-Language header (by quality, then
    order), else en-US: "cs-CZ,cs;q=0.9,en;q=0.8" → "cs-CZ"."""
    if not isinstance(accept_language, str) or len(accept_language) > _MAX_HEADER:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for order, item in enumerate(accept_language.split(",")[:_MAX_TAGS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and 0 < quality <= 1:
            ranked.append((-quality, order, tag.strip()))
    for _, _, tag in sorted(ranked):
        if _parse(tag) is not None:
            return known_locale(tag)
    return DEFAULT_LOCALE


def current_locale() -> str:
    return _current.get()


def set_locale(tag: object) -> Token[str]:
    """Format in `tag` (or en-US, if unknown) for the rest of this context; returns the token
    to reset with. For a scope that ends with its task; otherwise prefer `use_locale`."""
    return _current.set(known_locale(tag))


@contextlib.contextmanager
def use_locale(tag: object) -> Iterator[str]:
    """Format numbers in `tag` (or en-US, if unknown) inside the block."""
    token = set_locale(tag)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@lru_cache(maxsize=256)
def _separators(tag: str) -> dict[int, str] | None:
    """For locales that group by thousands (nearly all): a table turning Python's "1,234.5"
    into theirs; None where babel must group (India's "3,00,617")."""
    locale = _locale(tag)
    pattern = locale.decimal_formats.get(None)
    if pattern is None or pattern.grouping != (3, 3):
        return None
    return str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})


def number(value: float, decimals: int = 0, *, grouped: bool = True, trim: bool = False) -> str:
    """`value` with `decimals` places, the locale's group separator and decimal mark; `trim`
    drops trailing zeros ("1.5", "2")."""
    tag = _current.get()
    table = _separators(tag)
    if table is not None:
        # Python's own formatting, ten times faster than babel's (live rows format a lot).
        text = format(value, f"{',' if grouped else ''}.{decimals}f")
        if trim and "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.translate(table)
    locale = _locale(tag)
    primary, secondary = locale.decimal_formats[None].grouping
    # The locale's own grouping: (3, 2) → "#,##,##0".
    whole = f"#,{'#' * secondary},{'#' * (primary - 1)}0" if grouped else "0"
    fraction = ("#" if trim else "0") * decimals
    return format_decimal(value, whole + (f".{fraction}" if decimals else ""), locale=locale)


def count(n: int | float | None) -> str:
    """A count with thousands separators: 300617 → "300,617" (cs: "300 617")."""
    return number(int(n or 0))


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 product", "9,000 products"."""
    return f"{count(n)} {word if n == 1 else (words or word + 's')}"


def progress_counts(processed: int | None, total: int | None) -> str:
    """ "75,999 / 300,000", or "" when the total is not known."""
    return f"{count(processed)} / {count(total)}" if total is not None else ""


def human_size(n: int) -> str:
    """Bytes the way limits are stated: "2 GB", "50 MB", "1.5 MB" (cs: "1,5 MB"), "800 KB"."""
    for unit, scale in (("GB", 1024 * MB), ("MB", MB), ("KB", 1024)):
        if n >= scale:
            # "1.5 MB", and "2 MB" rather than "2.0 MB", as limits are written.
            return f"{number(n / scale, 1, trim=True)} {unit}"
    return f"{count(n)} bytes"


def price(value: float | None) -> str:
    """A price with two decimals and thousands separators: 1234.5 → "1,234.50" (cs:
    "1 234,50")."""
    return "" if value is None else number(value, 2)


def rate(per_second: float | None, unit: str) -> str:
    """ "1,250 rows/s"."""
    return f"{number(per_second)} {unit}/s" if per_second else ""


def human_seconds(seconds: float | None) -> str:
    """A duration: "< 0.1 s", "3.5 s" (cs: "3,5 s"), "42 s", "7 min 05 s", "2 h 03 min"."""
    if seconds is None:
        return ""
    if 0 < seconds < 0.05:  # it took some time, less than the figure can show: not "0.0 s"
        return f"< {number(0.1, 1, grouped=False)} s"
    if seconds < 10:
        return f"{number(max(0.0, seconds), 1, grouped=False)} s"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{count(hours)} h {minutes:02d} min"


def short_date(day: date) -> str:
    """A day without its year, as the locale writes it: "11/26" (cs: "26. 11.")."""
    return format_skeleton("Md", day, locale=_locale())


def clock(when: datetime) -> str:
    """The time of day on `when`'s own clock (its zone), as the locale writes it: "2:00 PM"
    (cs: "14:00")."""
    return format_time(when, "short", locale=_locale())


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: object) -> zoneinfo.ZoneInfo | None:
    """The IANA time zone `name` ("Europe/Prague"), or None when it names none we know.

    Only names of the zone database pass: nothing else reaches the file lookup (a name is a
    path under the database's folder). The first call lists the database (a few ms)."""
    if not isinstance(name, str) or len(name) > _MAX_ZONE or not _ZONE.fullmatch(name):
        return None
    if name not in _zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None

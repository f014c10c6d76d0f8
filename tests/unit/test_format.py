"""The one formatter in the user's locale: counts, sizes, durations, prices and rates follow the
locale of the context; unknown or hostile locale strings fall back to en-US."""

from __future__ import annotations

import asyncio
import re

import pytest

from jobboard.core import format as fmt
from jobboard.core.format import (
    count,
    human_seconds,
    human_size,
    plural,
    price,
    progress_counts,
    rate,
    use_locale,
)
from tests.utils.aio import run

NBSP, NNBSP = "\xa0", "\u202f"


def test_default_is_english_and_stable() -> None:
    assert fmt.current_locale() == "en-US"
    assert count(300617) == "300,617" and price(1234.5) == "1,234.50"
    assert human_seconds(3.46) == "3.5 s" and human_size(int(1.5 * fmt.MB)) == "1.5 MB"
    assert rate(1250.4, "rows") == "1,250 rows/s" and rate(None, "rows") == ""
    assert human_seconds(439) == "7 min 19 s" and human_seconds(None) == ""
    assert human_seconds(0.03) == "< 0.1 s" and human_seconds(0.06) == "0.1 s"


@pytest.mark.parametrize(
    ("tag", "big", "money", "size", "short"),
    [
        ("en-US", "300,617", "1,234.50", "1.5 MB", "3.5 s"),
        ("cs-CZ", f"300{NBSP}617", f"1{NBSP}234,50", "1,5 MB", "3,5 s"),
        ("cs", f"300{NBSP}617", f"1{NBSP}234,50", "1,5 MB", "3,5 s"),
        ("de-DE", "300.617", "1.234,50", "1,5 MB", "3,5 s"),
        ("fr-FR", f"300{NNBSP}617", f"1{NNBSP}234,50", "1,5 MB", "3,5 s"),
        ("de-CH", "300’617", "1’234.50", "1.5 MB", "3.5 s"),
        ("en-GB", "300,617", "1,234.50", "1.5 MB", "3.5 s"),
    ],
)
def test_numbers_follow_the_locale(tag: str, big: str, money: str, size: str, short: str) -> None:
    with use_locale(tag):
        assert count(300617) == big
        assert price(1234.5) == money
        assert human_size(int(1.5 * fmt.MB)) == size
        assert human_seconds(3.46) == short
        assert plural(300617, "product") == f"{big} products"
        assert progress_counts(300617, 300617) == f"{big} / {big}"
        assert rate(300617, "rows") == f"{big} rows/s"
    assert count(300617) == "300,617"  # the block ends, English again


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "xx-YY",
        "en-ZZ",
        "und",
        "../../../../etc/passwd",
        "en\x00US",
        "cs-CZ DROP TABLE",
        "<script>alert(1)</script>",
        "a" * 10_000,
        "c" * 3 + "-" + "Z" * 30,
        "\u202ecs-CZ",
        None,
        42,
        ["cs-CZ"],
    ],
)
def test_hostile_or_unknown_tags_fall_back_to_english(hostile: object) -> None:
    assert fmt.known_locale(hostile) == "en-US"
    assert fmt.negotiate(hostile) == "en-US"
    with use_locale(hostile) as used:
        assert used == "en-US"
        assert count(1234567) == "1,234,567" and price(0.5) == "0.50"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("cs-CZ,cs;q=0.9,en;q=0.8", "cs-CZ"),
        ("cs_CZ", "cs-CZ"),
        ("EN-gb", "en-GB"),
        ("en;q=0.1, de-DE;q=0.9", "de-DE"),
        ("xx-YY, fr-CA;q=0.5", "fr-CA"),  # the first we can format in
        ("de;q=abc, fr", "fr"),  # a malformed quality skips its tag only
        ("cs;q=0, de", "de"),  # q=0 means "not this one"
        ("*", "en-US"),
        ("cs-CZ," * 100, "en-US"),  # no browser sends 600 characters
        ("", "en-US"),
    ],
)
def test_negotiates_accept_language(header: str, expected: str) -> None:
    assert fmt.negotiate(header) == expected


def test_locale_is_per_context() -> None:
    """Two sessions formatting at once (tasks, threads) each keep their own locale."""

    async def session(tag: str) -> list[str]:
        seen = []
        fmt.set_locale(tag)  # a task's own context: no reset needed
        for _ in range(3):
            seen.append(count(1234))
            seen.append(await asyncio.to_thread(count, 1234))  # threads copy the context
            await asyncio.sleep(0)
        return seen

    async def both() -> tuple[list[str], list[str]]:
        return await asyncio.gather(session("cs-CZ"), session("de-DE"))  # type: ignore[return-value]

    czech, german = run(both())  # pytest-playwright may hold a loop here
    assert set(czech) == {f"1{NBSP}234"} and set(german) == {"1.234"}
    assert count(1234) == "1,234"


def test_durations_and_sizes_keep_their_shape() -> None:
    with use_locale("cs-CZ"):
        assert human_seconds(0) == "0,0 s" and human_seconds(-3) == "0,0 s"
        assert human_seconds(42) == "42 s" and human_seconds(3 * 3600 + 65) == "3 h 01 min"
        assert human_seconds(3_600_000) == f"1{NBSP}000 h 00 min"
        assert human_size(int(1.96 * fmt.MB)) == "2 MB" and human_size(800 * 1024) == "800 KB"
        assert human_size(5) == "5 bytes"
        assert price(None) == "" and price(0) == "0,00"
        assert re.fullmatch(r"1\xa0234\xa0567", count(1234567.9))


def test_sessions_remember_their_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live fan-out's view of each session's locale: known tags kept, others English,
    and the registry bounded."""
    from jobboard.state import locale

    monkeypatch.setattr(locale, "_by_token", {})
    monkeypatch.setattr(locale, "_LIMIT", 3)
    assert locale.remember("tab-1", "cs-CZ") == "cs-CZ"
    assert locale.remember("tab-2", "../../etc/passwd") == "en-US"
    assert locale.locale_of("tab-1") == "cs-CZ" and locale.locale_of("tab-2") == "en-US"
    assert locale.locale_of("never-seen") == "en-US"
    locale.remember("tab-3", "de-DE")
    locale.remember("tab-4", "fr-FR")  # over the limit: the oldest goes
    assert locale.locale_of("tab-1") == "en-US" and locale.locale_of("tab-4") == "fr-FR"
    assert len(locale._by_token) == 3


def test_indian_grouping_goes_through_babel() -> None:
    with use_locale("hi-IN"):
        assert count(30061700) == "3,00,61,700" and price(123456.5) == "1,23,456.50"
        assert human_size(int(1.5 * fmt.MB)) == "1.5 MB" and human_seconds(3.46) == "3.5 s"


@pytest.mark.parametrize("tag", ["en-US", "cs-CZ", "de-DE", "fr-FR", "de-CH", "es-ES", "sv-SE"])
def test_the_fast_path_writes_what_babel_writes(tag: str) -> None:
    """Python's formatting with the locale's symbols, checked against babel's own output."""
    from babel import Locale
    from babel.numbers import format_decimal

    locale = Locale.parse(tag, sep="-")
    with use_locale(tag):
        for value in (0, 7, 999, 1000, 12345, 300617, 1234567890):
            assert count(value) == format_decimal(value, "#,##0", locale=locale)
        for value in (0.5, 19.99, 1234.5, 987654.25):
            assert price(value) == format_decimal(value, "#,##0.00", locale=locale)


def test_sizes_up_to_gigabytes() -> None:
    assert human_size(2 * 1024 * fmt.MB) == "2 GB" and human_size(1023) == "1,023 bytes"
    with use_locale("cs-CZ"):
        assert human_size(int(2.5 * 1024 * fmt.MB)) == "2,5 GB"

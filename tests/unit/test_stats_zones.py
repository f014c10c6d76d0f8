"""History in the reader's time zone (jobboard.core.stats): days are local days (23 or 25
hours across a DST change), hour slots sit on the local clock, half-hour zones count the
hour that holds midnight with the day that begins in it, UTC is as before; and the labels
the History page puts on them follow the session's locale. A SQLite file, no Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobboard.core import stats
from jobboard.core.db import get_engine
from jobboard.core.format import known_zone, use_locale
from jobboard.core.settings import get_settings
from jobboard.state.history import kind_histories

PRAGUE = ZoneInfo("Europe/Prague")
KOLKATA = ZoneInfo("Asia/Kolkata")
OWNER = "zones-owner"


@pytest.fixture
def rollup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty `job_stat` table in a SQLite file of this test."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'stats.db'}")
    monkeypatch.setenv("JOBBOARD_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    stats.job_stat.create(get_engine())
    yield
    get_engine().dispose()
    monkeypatch.undo()
    get_settings.cache_clear()


def at(*args: int) -> int:
    """The epoch hour of a UTC time."""
    return stats.epoch_hour(datetime(*args, tzinfo=UTC))  # type: ignore[misc]


def add(hour: int, **counts: int) -> None:
    stats.add_rows([{"owner_id": OWNER, "hour": hour, "kind": "product_upload", **counts}])


def series(window: str, now: datetime, tz: Any = None) -> list[dict[str, Any]]:
    [kind] = stats.summary(OWNER, window, now=now, tz=tz)["kinds"]
    return kind["series"]


def by_day(points: list[dict[str, Any]]) -> dict[str, int]:
    return {p["start"].date().isoformat(): p["completed"] for p in points}


def test_utc_is_as_before(rollup: None) -> None:
    now = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    add(at(2026, 10, 24, 23), completed=1)
    add(at(2026, 10, 25, 0), completed=2)
    add(at(2026, 10, 26, 9), completed=4)
    for tz in (None, ZoneInfo("UTC")):
        summary = stats.summary(OWNER, "7d", now=now, tz=tz)
        assert summary["tz"] == "UTC"
        assert summary["since"] == datetime(2026, 10, 20, tzinfo=UTC)
        assert summary["until"] == datetime(2026, 10, 27, tzinfo=UTC)
        days = by_day(summary["kinds"][0]["series"])
        assert (days["2026-10-24"], days["2026-10-25"], days["2026-10-26"]) == (1, 2, 4)
        hours = series("24h", now, tz)
        assert [p["start"].hour for p in hours[-2:]] == [9, 10]
        assert hours[-2]["completed"] == 4


def test_prague_days_across_the_dst_change(rollup: None) -> None:
    """25 October 2026: 03:00 CEST becomes 02:00 CET, so that local day has 25 hours; its
    first hour is 22:00 UTC the day before and its last 22:00 UTC the same day."""
    now = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)  # 11:00 CET
    add(at(2026, 10, 24, 21), completed=100)  # 23:00 CEST on the 24th
    for hour in range(25):  # every hour of the local 25th, one job each
        add(at(2026, 10, 24, 22) + hour, completed=1)
    add(at(2026, 10, 25, 23), completed=1000)  # 00:00 CET on the 26th (UTC: still the 25th)

    summary = stats.summary(OWNER, "7d", now=now, tz=PRAGUE)
    assert summary["tz"] == "Europe/Prague"
    assert summary["since"] == datetime(2026, 10, 20, tzinfo=PRAGUE)
    assert summary["until"] == datetime(2026, 10, 27, tzinfo=PRAGUE)
    points = summary["kinds"][0]["series"]
    assert len(points) == 7
    assert by_day(points) == {
        "2026-10-20": 0,
        "2026-10-21": 0,
        "2026-10-22": 0,
        "2026-10-23": 0,
        "2026-10-24": 100,
        "2026-10-25": 25,
        "2026-10-26": 1000,
    }
    # Each slot starts at its local midnight, on the offset of that day.
    assert points[5]["start"].utcoffset() == timedelta(hours=2)
    assert points[6]["start"].utcoffset() == timedelta(hours=1)
    assert summary["kinds"][0]["completed"] == 1125
    # In UTC the same rows fall on other days: the zone is what moved them.
    assert by_day(series("7d", now))["2026-10-24"] == 100 + 2

    # Thirty days across the change: every hour counted once, one day of 25 hours.
    _, edges, bounds = stats.window_slots("30d", datetime(2026, 11, 10, tzinfo=UTC), PRAGUE)
    lengths = [b - a for a, b in pairwise(bounds)]
    assert len(lengths) == 30 and lengths.count(25) == 1 and set(lengths) == {24, 25}
    assert all(edge.hour == 0 and edge.minute == 0 for edge in edges)


def test_prague_hours_on_the_local_clock(rollup: None) -> None:
    now = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)  # 13:00 CET, after the change
    add(at(2026, 10, 25, 0), completed=1)  # 02:00 CEST
    add(at(2026, 10, 25, 1), completed=2)  # 02:00 CET: the same clock hour again
    points = series("24h", now, PRAGUE)
    assert len(points) == 24
    assert points[-1]["start"] == datetime(2026, 10, 25, 13, tzinfo=PRAGUE)
    twice = [p for p in points if p["start"].hour == 2]
    assert [(p["start"].utcoffset(), p["completed"]) for p in twice] == [
        (timedelta(hours=2), 1),
        (timedelta(hours=1), 2),
    ]
    summary = stats.summary(OWNER, "24h", now=now, tz=PRAGUE)
    with use_locale("cs-CZ"):
        labels = [p["label"] for p in kind_histories(summary)[0].series]
    assert labels[-1] == "13:00" and labels.count("2:00") == 2


def test_a_half_hour_zone(rollup: None) -> None:
    """India is UTC+05:30: local midnight falls at half past an epoch hour. The hour holding
    it (23:30–00:30 local) counts with the day that begins in it."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 17:30 IST
    add(at(2026, 11, 25, 17), completed=1)  # 22:30–23:30 IST on the 25th
    add(at(2026, 11, 25, 18), completed=10)  # 23:30–00:30 IST: holds midnight of the 26th
    add(at(2026, 11, 26, 11), completed=100)  # 16:30–17:30 IST on the 26th
    summary = stats.summary(OWNER, "7d", now=now, tz=KOLKATA)
    assert summary["since"] == datetime(2026, 11, 20, tzinfo=KOLKATA)
    days = by_day(summary["kinds"][0]["series"])
    assert (days["2026-11-25"], days["2026-11-26"]) == (1, 110)
    hours = series("24h", now, KOLKATA)
    assert hours[-1]["start"] == datetime(2026, 11, 26, 17, 30, tzinfo=KOLKATA)
    assert hours[-2]["completed"] == 100
    with use_locale("en-GB"):
        found = kind_histories(stats.summary(OWNER, "24h", now=now, tz=KOLKATA))
    assert found[0].series[-1]["label"] == "17:30"


def test_day_labels_follow_the_locale(rollup: None) -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    add(at(2026, 11, 26, 9), completed=1)
    summary = stats.summary(OWNER, "7d", now=now, tz=PRAGUE)
    for tag, label in (("cs-CZ", "26. 11."), ("en-US", "11/26"), ("de-DE", "26.11.")):
        with use_locale(tag):
            assert kind_histories(summary)[0].series[-1]["label"] == label


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../../../etc/passwd",
        "Europe/Nowhere",
        "zone.tab",
        "tzdata.zi",
        "Europe/Prague\x00",
        "Europe/Prague ",
        "",
        "x" * 5000,
        None,
        42,
        ["Europe/Prague"],
        {"name": "Europe/Prague"},
    ],
)
def test_unknown_or_hostile_zone_names_are_refused(name: object) -> None:
    assert known_zone(name) is None


def test_known_zone_names() -> None:
    for name in ("Europe/Prague", "UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires"):
        zone = known_zone(name)
        assert zone is not None and zone.key == name

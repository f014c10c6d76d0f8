"""The events hub's bounded listeners and the SSE positions (no Redis needed)."""

from __future__ import annotations

import pytest

from jobboard.core.hub import RESUBSCRIBED, Hub, Overflow, Tap
from jobboard.core.streams import START, Position, parse_position
from tests.utils.aio import run


def test_a_listener_that_falls_behind_is_dropped_not_buffered() -> None:
    async def scenario() -> None:
        hub = Hub()
        hub.start = lambda: None  # type: ignore[method-assign]  (no Redis here)
        with hub.listen("owner", maxsize=3) as listener:
            message = {"type": "pmessage", "channel": b"jobboard:events:owner"}
            for n in range(3):
                hub._fan_out(message | {"data": f'{{"n": {n}}}'})
            assert not listener.overflowed
            assert await listener.get(0.1) == {"n": 0}
            for n in range(3, 6):  # one more than fits
                hub._fan_out(message | {"data": f'{{"n": {n}}}'})
            assert listener.overflowed
            with pytest.raises(Overflow):
                await listener.get(0.1)
            assert hub.listener_count() == 1
        assert hub.listener_count() == 0

    run(scenario())


def test_only_followed_owners_are_decoded_and_taps_hear_reconnects() -> None:
    async def scenario() -> None:
        hub = Hub()
        hub.start = lambda: None  # type: ignore[method-assign]
        seen: list[dict] = []
        reconnects: list[object] = []

        async def on_reconnect(lost_at: object) -> None:
            reconnects.append(lost_at)

        hub.tap(
            Tap(wants=lambda owner: owner == "ui", deliver=seen.append, on_reconnect=on_reconnect)
        )
        # Nobody follows "nobody": its (undecodable) payload is never even parsed.
        hub._fan_out({"channel": b"jobboard:events:nobody", "data": b"not json"})
        hub._fan_out({"channel": b"jobboard:events:ui", "data": b'{"n": 1}'})
        assert seen == [{"n": 1}]
        with hub.listen("sse", maxsize=5) as listener:
            await hub._subscribed(None)
            assert await listener.get(0.1) is RESUBSCRIBED
            assert reconnects == []  # a first subscription is no reconnect
            await hub._subscribed("earlier")  # type: ignore[arg-type]
            assert reconnects == ["earlier"]

    run(scenario())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000000-0", Position(1700000000000, 0)),
        ("1700000000000-3.2", Position(1700000000000, 3, 2)),
        (b"5-1", Position(5, 1)),
        (" 5-1 ", Position(5, 1)),
        ("0-0", START),
        ("abc", None),
        ("", None),
        ("-1", None),
        ("1-2-3", None),
        ("99999999999999999999-0", None),
        ("9" * 5000, None),
        ("1-1.1234567890", None),
        (None, None),
    ],
)
def test_positions(raw: str | bytes | None, expected: Position | None) -> None:
    assert parse_position(raw) == expected


def test_positions_order_messages_made_between_log_entries() -> None:
    entry = Position(10, 0)
    made = entry.made()
    assert str(made) == "10-0.1" and made > entry and Position(10, 1) > made.made()
    assert Position(10, 1).after(made) and not made.after(entry)


def test_job_listeners_wake_only_for_their_job() -> None:
    async def scenario() -> None:
        hub = Hub()
        hub.start = lambda: None  # type: ignore[method-assign]
        channel = b"jobboard:events:owner"
        with (
            hub.listen("owner", maxsize=5, job_id="a") as of_a,
            hub.listen("owner", maxsize=5) as of_all,
        ):
            hub._fan_out({"channel": channel, "data": b'{"job": {"id": "b"}}'})
            hub._fan_out({"channel": channel, "data": b'{"job": {"id": "a"}}'})
            assert await of_a.get(0.1) == {"job": {"id": "a"}}
            assert await of_a.get(0.05) is None
            assert [await of_all.get(0.1) for _ in range(2)] == [
                {"job": {"id": "b"}},
                {"job": {"id": "a"}},
            ]
            await hub._subscribed(None)
            assert await of_a.get(0.1) is RESUBSCRIBED
            assert hub.listener_count() == 2
        assert hub.listener_count() == 0 and not hub._job_listeners

    run(scenario())

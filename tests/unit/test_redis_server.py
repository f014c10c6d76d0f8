"""The private Redis server starts with what Reflex needs, so a restart cannot lose it."""

from __future__ import annotations

from reflex.istate.manager import redis as reflex_redis

from scripts import redis_server


def test_keyspace_events_are_the_ones_reflex_sets() -> None:
    assert redis_server.NOTIFY_KEYSPACE_EVENTS == reflex_redis.NOTIFY_KEYSPACE_EVENTS

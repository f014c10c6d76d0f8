"""Redis connections: one client per URL and process."""

from __future__ import annotations

from functools import lru_cache

import redis
import redis.asyncio as aioredis

from jobboard.core.settings import get_settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # RQ needs raw bytes: never decode_responses on this connection.
    return redis.Redis.from_url(url, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _client(get_settings().redis_url)


def get_async_redis() -> aioredis.Redis:
    """A fresh asyncio client (bound to the running loop)."""
    return aioredis.Redis.from_url(get_settings().redis_url)

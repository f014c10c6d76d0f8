"""Redis connections: one client per URL and process."""

from __future__ import annotations

from functools import lru_cache

import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from jobboard.core.settings import get_settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # RQ needs raw bytes: never decode_responses on this connection.
    return redis.Redis.from_url(url, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _client(get_settings().redis_url)


def get_async_redis(client_name: str | None = None) -> aioredis.Redis:
    """A fresh asyncio client (bound to the running loop); `client_name` is what
    `CLIENT LIST` shows for its connections."""
    return aioredis.Redis.from_url(get_settings().redis_url, client_name=client_name)


# One pooled asyncio client per event loop (and URL): the SSE streams of a process share a
# few connections for their short reads instead of one connection per stream.
_shared: dict[tuple[int, str], aioredis.Redis] = {}
SHARED_ASYNC_CONNECTIONS = 20


def shared_async_redis() -> aioredis.Redis:
    """The running loop's pooled asyncio client (at most SHARED_ASYNC_CONNECTIONS, waiting
    for a free one rather than opening more)."""
    import asyncio

    url = get_settings().redis_url
    key = (id(asyncio.get_running_loop()), url)
    client = _shared.get(key)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=SHARED_ASYNC_CONNECTIONS, timeout=20, health_check_interval=30
        )
        client = _shared[key] = aioredis.Redis(connection_pool=pool)
    return client


@lru_cache(maxsize=4)
def _probe_client(url: str, timeout: float) -> redis.Redis:
    # Its own client: short timeouts and no retries, so a Redis that is gone or hangs is
    # reported within `timeout` instead of holding a request for the default retries.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def redis_answers(timeout: float = 1.0) -> bool:
    """Whether Redis answers a PING within `timeout` seconds (blocking: call it off the loop)."""
    try:
        return bool(_probe_client(get_settings().redis_url, timeout).ping())
    except (redis.RedisError, OSError):
        return False

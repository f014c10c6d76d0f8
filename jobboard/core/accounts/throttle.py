"""Failed sign-in limits per account and per address (moving window, stored in Redis).

Only failures are counted; a sign-in that is refused because of the limit is not a failure.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from functools import lru_cache

import redis
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from jobboard.core.accounts.errors import SignInThrottled
from jobboard.core.settings import get_settings

log = logging.getLogger(__name__)

PER_ACCOUNT: RateLimitItem = parse("5/minute")
PER_ADDRESS: RateLimitItem = parse("20/minute")


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    storage = RedisStorage(redis_url, key_prefix="jobboard:signin", health_check_interval=30)
    return MovingWindowRateLimiter(storage)


def _keys(email: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
    # The account key is a digest: Redis never holds the typed email addresses.
    account = hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
    return [
        (PER_ACCOUNT, "account", account),
        (PER_ADDRESS, "address", (address or "unknown")[:64]),
    ]


def check(email: str, address: str) -> None:
    """Raise SignInThrottled when the account or the address has too many recent failures.

    Without Redis the limits cannot be read: sign-in goes on (sessions live in the database)
    and a warning is logged.
    """
    limiter = _limiter(get_settings().redis_url)
    waits = []
    try:
        for item, kind, key in _keys(email, address):
            if not limiter.test(item, kind, key):
                reset, _remaining = limiter.get_window_stats(item, kind, key)
                waits.append(reset - time.time())
    except redis.RedisError as exc:
        log.warning("sign-in limits not checked, Redis is unreachable: %s", exc)
        return
    if waits:
        raise SignInThrottled(math.ceil(max(*waits, 1.0)))


def record_failure(email: str, address: str) -> None:
    """Count one failed sign-in against the account and the address."""
    limiter = _limiter(get_settings().redis_url)
    try:
        for item, kind, key in _keys(email, address):
            limiter.hit(item, kind, key)
    except redis.RedisError as exc:
        log.warning("failed sign-in not counted, Redis is unreachable: %s", exc)


def clear(email: str, address: str) -> None:
    """Forget the failures of an account and an address (tests, admin help)."""
    limiter = _limiter(get_settings().redis_url)
    for item, kind, key in _keys(email, address):
        limiter.clear(item, kind, key)

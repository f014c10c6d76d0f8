"""Short-lived stream tokens: `?access_token=` for SSE clients that cannot send a header.

A stream token opens the SSE streams of one job (`job_id`) or of all of a user's jobs, and
nothing else: only the stream routes look at `access_token`. It lives in Redis for
`stream_token_ttl_seconds` under the SHA-256 of its text (the text itself is never stored),
and stops working at once when its user is disabled.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from jobboard.core.redis import get_redis
from jobboard.core.settings import get_settings

PREFIX = "jbs_"
_LENGTH = len(PREFIX) + 43  # token_urlsafe(32)


@dataclass(frozen=True)
class StreamGrant:
    user_id: str
    job_id: str | None  # None: every job of the user

    def allows(self, job_id: str | None) -> bool:
        """Whether the grant opens the stream of `job_id` (None: the user stream)."""
        return self.job_id is None or self.job_id == job_id


def _key(raw: str) -> str:
    return "jobboard:stream-token:" + hashlib.sha256(raw.encode()).hexdigest()


def looks_like_stream_token(raw: str) -> bool:
    return len(raw) == _LENGTH and raw.startswith(PREFIX) and raw.isascii()


def mint(user_id: str, job_id: str | None = None) -> tuple[str, int]:
    """A new stream token for the user (and job); returns it and its lifetime in seconds."""
    ttl = get_settings().stream_token_ttl_seconds
    raw = PREFIX + secrets.token_urlsafe(32)
    grant = json.dumps({"user_id": user_id, "job_id": job_id})
    get_redis().set(_key(raw), grant, ex=ttl)
    return raw, ttl


def grant_for(raw: str) -> StreamGrant | None:
    """What a stream token opens; None when malformed, unknown or expired."""
    if not looks_like_stream_token(raw):
        return None
    stored = get_redis().get(_key(raw))
    if not stored:
        return None
    data = json.loads(stored)
    return StreamGrant(data["user_id"], data.get("job_id"))

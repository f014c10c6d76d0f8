"""Configuration read from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    redis_url: str
    database_url: str
    var_dir: Path
    upload_dir: Path
    max_upload_bytes: int
    local_user: str
    job_timeout_seconds: int
    progress_interval: float
    db_persist_interval: float
    snapshot_ttl_seconds: int
    redis_grace_seconds: float
    retention_days: int  # finished jobs and their files; failed ones are kept twice as long
    signup: str  # "open", "closed" or "" (open while there is no user yet, then closed)
    allowed_origins: tuple[str, ...]  # browser origins allowed to call the app (CORS, websocket)
    api_rate_per_minute: int  # REST API requests per token (or sign-in session) per minute
    # Webhooks: seconds to wait before each of a message's attempts (the first is "now"), the
    # targets let through the SSRF guard (host names and networks), how long a webhook may fail
    # before it is disabled, and how long the delivery log is kept.
    webhook_retry_schedule: tuple[float, ...]
    webhook_allowed_hosts: tuple[str, ...]
    webhook_disable_after_seconds: float
    webhook_log_days: int
    metrics_public: bool  # /metrics without an administrator's API token
    # Event log (SSE resume): every owner's events of at least this long, at most ~this many.
    event_log_seconds: int
    event_log_max_entries: int
    long_poll_seconds: float  # GET /api/v1/jobs/{id}?since_version=N waits this long, then 304
    sse_heartbeat_seconds: float  # comment lines on idle SSE streams (proxies drop silent ones)
    sse_queue_events: int  # events waiting for one slow SSE client before its stream is closed
    stream_token_ttl_seconds: int  # `?access_token=` of POST /api/v1/stream-tokens
    # Pages: at most one live frame per this many ms per app process (0 = each update as it
    # comes). 20 ms: 50 jobs at 10 updates/s go out as ≤ 50 frames/s, a team's 40 events/s
    # wait little (docs/BENCHMARKS.md, sessions).
    live_frame_ms: float


def normalize_database_url(url: str) -> str:
    """Accept plain postgres:// URLs; SQLAlchemy needs the driver named (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _retention_days() -> int:
    """JOBBOARD_RETENTION_DAYS: whole days from 1 to 3650; anything else stops start-up."""
    raw = os.environ.get("JOBBOARD_RETENTION_DAYS", "").strip() or "30"
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        raise ValueError(
            f"JOBBOARD_RETENTION_DAYS must be a whole number of days from 1 to 3650, not {raw!r}"
        )
    return days


def _signup() -> str:
    """JOBBOARD_SIGNUP: open, closed, or unset (open until the first user exists)."""
    raw = os.environ.get("JOBBOARD_SIGNUP", "").strip().lower()
    if raw not in ("", "open", "closed"):
        raise ValueError(f"JOBBOARD_SIGNUP must be open or closed, not {raw!r}")
    return raw


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def allowed_origins() -> tuple[str, ...]:
    """The app's own origin (`http://localhost:$PORT`, `http://127.0.0.1:$PORT`; PORT defaults
    to 3000) plus JOBBOARD_ALLOWED_ORIGINS (comma-separated `scheme://host[:port]`). Anything
    else, `*` included, stops start-up: a wildcard would let any site act for the user."""
    port = os.environ.get("PORT", "").strip() or "3000"
    if not port.isdigit():
        raise ValueError(f"PORT must be a port number, not {port!r}")
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    for raw in os.environ.get("JOBBOARD_ALLOWED_ORIGINS", "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                "JOBBOARD_ALLOWED_ORIGINS lists origins such as https://jobs.example.com "
                f"(scheme://host[:port], comma-separated), not {raw.strip()!r}"
            )
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _api_rate() -> int:
    """JOBBOARD_API_RATE_PER_MINUTE: REST requests per token per minute, 1 to 1,000,000."""
    raw = os.environ.get("JOBBOARD_API_RATE_PER_MINUTE", "").strip() or "600"
    try:
        rate = int(raw)
    except ValueError:
        rate = 0
    if not 1 <= rate <= 1_000_000:
        raise ValueError(
            f"JOBBOARD_API_RATE_PER_MINUTE must be a whole number from 1 to 1000000, not {raw!r}"
        )
    return rate


# now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over about 28 h; a webhook whose
# deliveries keep failing for 3 days (several messages) is then turned off.
WEBHOOK_RETRY_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def _webhook_retry_schedule() -> tuple[float, ...]:
    """JOBBOARD_WEBHOOK_RETRY_SCHEDULE: comma-separated delays in seconds, one per attempt."""
    raw = os.environ.get("JOBBOARD_WEBHOOK_RETRY_SCHEDULE", "").strip()
    if not raw:
        return WEBHOOK_RETRY_SCHEDULE
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        delays = ()
    if not 1 <= len(delays) <= 20 or any(not 0 <= d <= 7 * 86400 for d in delays):
        raise ValueError(
            "JOBBOARD_WEBHOOK_RETRY_SCHEDULE lists 1 to 20 delays in seconds (0 to 604800), "
            f"comma-separated, not {raw!r}"
        )
    return delays


def _webhook_allowed_hosts() -> tuple[str, ...]:
    """JOBBOARD_WEBHOOK_ALLOWED_HOSTS: host names or CIDRs the SSRF guard lets through."""
    raw = os.environ.get("JOBBOARD_WEBHOOK_ALLOWED_HOSTS", "")
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def _metrics_public() -> bool:
    """JOBBOARD_METRICS_PUBLIC: 1 serves /metrics to anyone; unset or 0 asks for an
    administrator's API token (the metrics tell how much and what kind of work is done)."""
    raw = os.environ.get("JOBBOARD_METRICS_PUBLIC", "").strip().lower()
    if raw not in ("", "0", "1", "false", "true", "no", "yes"):
        raise ValueError(f"JOBBOARD_METRICS_PUBLIC must be 1 or 0, not {raw!r}")
    return raw in ("1", "true", "yes")


def _number(name: str, default: float, low: float, high: float) -> float:
    """A number from the environment within [low, high]; anything else stops start-up."""
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, not {raw!r}")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("JOBBOARD_VAR_DIR", ROOT / "var")).resolve()
    return Settings(
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        database_url=normalize_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'jobboard.db'}"
        ),
        var_dir=var_dir,
        upload_dir=var_dir / "uploads",
        max_upload_bytes=int(os.environ.get("JOBBOARD_MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        local_user=os.environ.get("JOBBOARD_LOCAL_USER", "local"),
        job_timeout_seconds=int(os.environ.get("JOBBOARD_JOB_TIMEOUT", "3600")),
        # The UI needs at most ~10 updates a second per job.
        progress_interval=float(os.environ.get("JOBBOARD_PROGRESS_INTERVAL", "0.1")),
        db_persist_interval=float(os.environ.get("JOBBOARD_DB_PERSIST_INTERVAL", "2.0")),
        snapshot_ttl_seconds=7 * 24 * 3600,
        # A running job that cannot reach Redis keeps going this long, then fails saying so.
        redis_grace_seconds=float(os.environ.get("JOBBOARD_REDIS_GRACE_SECONDS", "300")),
        retention_days=_retention_days(),
        signup=_signup(),
        allowed_origins=allowed_origins(),
        api_rate_per_minute=_api_rate(),
        webhook_retry_schedule=_webhook_retry_schedule(),
        webhook_allowed_hosts=_webhook_allowed_hosts(),
        webhook_disable_after_seconds=3 * 86400.0,
        webhook_log_days=30,
        metrics_public=_metrics_public(),
        event_log_seconds=24 * 3600,
        event_log_max_entries=int(_number("JOBBOARD_EVENT_LOG_MAX", 100_000, 1000, 10_000_000)),
        long_poll_seconds=_number("JOBBOARD_LONG_POLL_SECONDS", 25, 0.1, 25),
        sse_heartbeat_seconds=_number("JOBBOARD_SSE_HEARTBEAT_SECONDS", 15, 0.1, 15),
        sse_queue_events=1000,
        stream_token_ttl_seconds=int(_number("JOBBOARD_STREAM_TOKEN_TTL_SECONDS", 300, 10, 3600)),
        live_frame_ms=_number("JOBBOARD_LIVE_FRAME_MS", 20, 0, 1000),
    )

"""Shared fixtures: every test session starts its own Redis, database, worker and app."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import CHROMIUM_ARGS, Stack

ROOT = Path(__file__).resolve().parents[1]
SHOPIFY_SAMPLE = ROOT / "tests" / "fixtures" / "shopify_product_template.csv"
# Webhook tests deliver to a receiver on 127.0.0.1 (let through the SSRF guard) and retry
# within seconds instead of hours.
WEBHOOK_ENV = {
    "JOBBOARD_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "JOBBOARD_WEBHOOK_RETRY_SCHEDULE": "0,1,1,1,1,1,1,1",
}


def _use_env(env: dict[str, str]) -> None:
    from jobboard.core.settings import get_settings

    os.environ.update(env)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Redis on a random port, a fresh SQLite database and one RQ worker process."""
    var_dir = tmp_path_factory.mktemp("var")
    env = {
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{var_dir / 'test.db'}",
        # Short waits, so tests see a long poll's 304 and an SSE heartbeat quickly.
        "JOBBOARD_LONG_POLL_SECONDS": "2",
        "JOBBOARD_SSE_HEARTBEAT_SECONDS": "1",
    } | WEBHOOK_ENV
    stack = Stack(var_dir, workers=1, app=False, env=env, log_dir=var_dir / "logs")
    stack.start()
    _use_env(
        {k: stack.env[k] for k in ("REDIS_URL", "DATABASE_URL", "JOBBOARD_VAR_DIR", *WEBHOOK_ENV)}
    )
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def app_url(services: Stack) -> str:
    """The Reflex app in prod mode (two backend processes) on a free port."""
    services.start_app()
    services.wait_app()
    return services.url


@dataclass
class Account:
    user: Any
    password: str
    secret: str  # a signed-in session's cookie value

    @property
    def id(self) -> str:
        return self.user.id


@pytest.fixture(scope="session")
def browser_account(services: Stack) -> Account:
    """The user the browser tests are signed in as (the first user, so an administrator)."""
    from jobboard.core import accounts
    from tests.utils.browser import BROWSER_EMAIL, BROWSER_PASSWORD, session_for

    user = next((u for u in accounts.list_users() if u.email == BROWSER_EMAIL), None)
    user = user or accounts.create_user(BROWSER_EMAIL, BROWSER_PASSWORD, is_admin=True)
    return Account(user, BROWSER_PASSWORD, session_for(user))


@pytest.fixture
def context(browser: Any, app_url: str, browser_account: Account) -> Iterator[Any]:
    """pytest-playwright's `context` (and so `page`), signed in as the browser tests' user."""
    from tests.utils.browser import sign_in_context

    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    sign_in_context(ctx, app_url, browser_account.secret)
    yield ctx
    ctx.close()


@pytest.fixture
def owner(request: pytest.FixtureRequest) -> str:
    """A fresh owner per test keeps tests apart without wiping shared services."""
    return f"t-{request.node.name[:40]}-{time.monotonic_ns()}"


@pytest.fixture
def upload_file(services: Stack) -> Callable[[str, bytes], Path]:
    """Write bytes where an uploaded file would be stored; returns the path."""
    folder = Path(tempfile.mkdtemp(dir=services.var_dir))

    def write(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return write


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns a truthy value (for out-of-process work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    return {"executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture
def empty_catalog(services: Stack, browser_account: Account) -> None:
    """The browser's signed-in user starts with no products."""
    from sqlalchemy import delete

    from jobboard.core.db import session_scope
    from jobboard.core.models import Product

    with session_scope() as session:
        session.exec(delete(Product).where(Product.owner_id == browser_account.id))


@contextlib.contextmanager
def isolated_stack(
    var_dir: Path, workers: int, database_url: str = "", env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """A second stack with its own Redis and database; this process talks to it meanwhile.

    Separate on purpose: each stack's stuck-job reaper judges jobs by its own Redis.
    """
    from jobboard.core.settings import get_settings

    db_url = database_url or f"sqlite:///{var_dir / 'isolated.db'}"
    stack = Stack(
        var_dir, workers=workers, app=False,
        env={"REDIS_URL": "", "DATABASE_URL": db_url, **(env or {})},
        log_dir=var_dir / "logs",
    )  # fmt: skip
    saved = {k: os.environ.get(k, "") for k in ("REDIS_URL", "DATABASE_URL", "JOBBOARD_VAR_DIR")}
    try:
        stack.start()
        os.environ.update({k: stack.env[k] for k in saved})
        get_settings.cache_clear()
        yield stack
    finally:
        stack.stop()
        os.environ.update(saved)
        get_settings.cache_clear()


@dataclass
class ProductRec:
    """A product as `upsert_products` takes it (the upload parser's records look the same)."""

    title: str
    sku: str | None = None
    key: str = ""
    handle: str | None = None
    description: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = field(default_factory=list)
    price: float | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = self.key or self.sku or self.title


@contextlib.contextmanager
def job_events(
    owner: str, pick: Callable[[dict[str, Any]], Any] = lambda event: event
) -> Iterator[list[Any]]:
    """Collect `pick(event)` for every job event published for the owner while the block runs."""
    import json
    import threading

    from jobboard.core import events

    got: list[Any] = []
    pubsub = events.get_redis().pubsub()
    pubsub.subscribe(events.channel(owner))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    stop = threading.Event()

    def pump() -> None:
        # After the block, keep reading until the channel has been quiet for a moment.
        while True:
            msg = pubsub.get_message(timeout=0.2)
            if msg and msg["type"] == "message":
                got.append(pick(json.loads(msg["data"])))
            elif stop.is_set():
                return

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        stop.set()
        thread.join(5)
        pubsub.close()

"""Running a coroutine from a sync test, whatever loop the test process already runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` in a thread of its own: pytest-playwright's sync API leaves an
    event loop running in the main thread, where `asyncio.run` refuses to start."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the test's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="test-asyncio-run")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]

"""Workers are named `<host>.<n>`: readable in `rq info`, and unique across restarts."""

from __future__ import annotations

import os
import socket

from rq import Worker

from jobboard.core.jobs import QUEUES
from jobboard.core.redis import get_redis
from scripts.stack import Stack
from tests.conftest import wait_for
from workers.pool import JobboardWorkerPool


def _dead_pid() -> int:
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


def _names() -> set[str]:
    return {w.name for w in Worker.all(connection=get_redis())}


def _registered(name: str, pid: int) -> None:
    worker = Worker(QUEUES, name=name, connection=get_redis())
    worker.register_birth()
    get_redis().hset(worker.key, "pid", pid)


def test_worker_names_skip_live_workers_and_reuse_crashed_ones(services: Stack) -> None:
    host = socket.gethostname()
    pool = JobboardWorkerPool(QUEUES, connection=get_redis(), num_workers=2)
    # The test session's own worker is `<host>.1`.
    wait_for(lambda: _names() == {f"{host}.1"}, 30, "the session's worker")
    # A live worker (this process) holds the next number: it is skipped.
    live, crashed = f"{host}.2", f"{host}.3"
    try:
        _registered(live, os.getpid())
        # A worker of this host that crashed without a word left its registration behind:
        # its number is free again, and `rq info` no longer lists it.
        _registered(crashed, _dead_pid())
        assert pool._free_name() == crashed
        assert _names() == {f"{host}.1", live}
    finally:
        for name in (live, crashed):
            key = Worker.redis_worker_namespace_prefix + name
            get_redis().srem(Worker.redis_workers_keys, key)
            get_redis().delete(key)

"""A worker pool killed with kill -9 takes its workers with it (no orphans running jobs
beside the pool the supervisor starts instead)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from scripts.stack import children_of
from tests.conftest import isolated_stack, wait_for


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat[stat.rfind(")") :]  # a zombie has ended


@pytest.mark.skipif(not Path("/proc").exists(), reason="Linux: parent-death signal")
def test_killing_the_pool_ends_its_workers(tmp_path: Path) -> None:
    with isolated_stack(tmp_path, workers=2) as stack:
        pool = stack.worker_procs[0]
        workers = wait_for(
            lambda: len(children_of(pool.pid)) >= 2 and children_of(pool.pid),
            timeout=60,
            what="the pool's two workers",
        )
        time.sleep(1)  # past their start-up, where the death signal is set
        os.kill(pool.pid, signal.SIGKILL)
        pool.wait(10)
        wait_for(
            lambda: not any(_alive(pid) for pid in workers),
            timeout=15,
            what="the killed pool's workers to end",
        )

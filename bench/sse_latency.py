"""Worker update → SSE client latency with 1 and 1,000 open streams in one app process.

.venv/bin/python -m bench.sse_latency [--quick]

One app process (GRANIAN_WORKERS=1) on a private stack. The bench opens N streams of
`GET /api/v1/jobs/{id}/events` (httpx, HTTP/1.1, one connection each): F of them follow one
running job, the others another (idle) job of the same user, so the app's hub hands every
event to all N streams. It then publishes updates of the followed job exactly as a worker's
reporter does (`events.publish`, the Lua script that logs, snapshots and publishes) at 10
updates/s (the most one job's reporter sends) or 1/s. Scenarios: 1 stream; 1,000 streams
with 1 following; 1,000 all following at 1/s and at 10/s (1,000 and 10,000 messages/s).
Each update carries its sequence number in `progress_data`; the time from just before
`events.publish` to the arrival of the message's bytes at each following stream is one
sample (F × updates samples). Every stream is read; the clients only split messages and find
the sequence number, but all 1,000 run in the bench's one Python process on the same machine,
so at 10,000 messages/s the client's share of the CPU counts in the figures. Also recorded: how many
connections Redis has while the 1,000 streams are open (the app's hub holds one
subscription for all of them).
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
import uuid

import httpx

from bench.common import Result, log, percentile, private_stack

NAME = "sse"
RATE = 10.0  # updates/s
_SEQ = re.compile(rb'"bench_seq":(\d+)')
_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r")  # ends a message (sse-starlette: CRLF)
P50_TARGET_MS, P99_TARGET_MS = 20.0, 100.0  # as for the browser (the UI's figures)


def _make_job(owner: str) -> str:
    from jobboard.core import events, jobs
    from jobboard.core.db import session_scope
    from jobboard.core.models import Job, JobStatus, utcnow
    from jobboard.core.redis import get_redis

    now = utcnow()
    job = Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="export_catalog",
        title="SSE bench",
        status=JobStatus.PROCESSING,
        params={"format": "plain"},
        created_at=now,
        started_at=now,
        updated_at=now,
    )
    with session_scope() as session:
        session.add(job)
    # The bench plays its worker: the watchdog must not fail a job no horse runs.
    get_redis().set(jobs.alive_key(job.id), "1", ex=3600)
    events.publish(jobs.to_public(job), owner)
    return job.id


def _publish(job_id: str, owner: str, updates: int, rate: float, sent: dict[int, float]) -> None:
    from jobboard.core import events, jobs
    from jobboard.core.db import session_scope
    from jobboard.core.models import Job

    with session_scope() as session:
        row = session.get(Job, job_id)
        assert row is not None
        base = jobs.to_public(row)
    start = time.monotonic()
    for seq in range(updates):
        body = base | {
            "progress_data": {
                "percentage": round(100 * seq / updates, 1),
                "current_step": "bench",
                "bench_seq": seq,
            }
        }
        sent[seq] = time.time()
        events.publish(body, owner)
        pause = start + (seq + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)


async def _scenario(
    url: str, token: str, owner: str, streams: int, followers: int, rate: float, updates: int
) -> tuple[list[float], int, int]:
    """Latencies (ms) of every delivery, deliveries missing, Redis connections while open.

    `followers` of the `streams` follow the updated job; the others follow an idle job of
    the same user (so the hub hands them every event too, and they drop it).
    """
    from jobboard.core.redis import get_redis

    job_id = await asyncio.to_thread(_make_job, owner)
    idle_id = await asyncio.to_thread(_make_job, owner)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    got = [0] * followers
    ready = 0
    all_ready = asyncio.Event()
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    timeout = httpx.Timeout(120.0)
    headers = {"Authorization": f"Bearer {token}"}

    async def follow(client: httpx.AsyncClient, index: int) -> None:
        nonlocal ready
        path = f"/api/v1/jobs/{job_id if index < followers else idle_id}/events"
        async with client.stream("GET", path) as response:
            if response.status_code != 200:
                raise RuntimeError(f"stream {index}: HTTP {response.status_code}")
            buffer = b""
            connected = False
            async for chunk in response.aiter_raw():
                now = time.time()
                buffer += chunk
                *blocks, buffer = _BLANK_LINE.split(buffer)
                for block in blocks:
                    if not connected and b'"connected"' in block:
                        connected = True
                        ready += 1
                        if ready == streams:
                            all_ready.set()
                    match = _SEQ.search(block)
                    if match and index < followers:
                        seq = int(match[1])
                        latencies.append((now - sent[seq]) * 1000)
                        got[index] += 1
                        if seq == updates - 1 and all(n >= updates for n in got):
                            done.set()

    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=timeout, limits=limits
    ) as client:
        tasks = []
        for start in range(0, streams, 50):  # open in batches, as clients trickle in
            batch = range(start, min(start + 50, streams))
            tasks += [asyncio.create_task(follow(client, i)) for i in batch]
            await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(all_ready.wait(), 300)
        except TimeoutError:
            failed = [t.exception() for t in tasks if t.done() and t.exception()]
            raise RuntimeError(
                f"only {ready} of {streams} streams connected: {failed[:1]}"
            ) from None
        redis_connections = len(await asyncio.to_thread(get_redis().client_list))
        log(f"{NAME}: {streams} streams open, Redis has {redis_connections} connections")
        publisher = threading.Thread(
            target=_publish, args=(job_id, owner, updates, rate, sent), daemon=True
        )
        publisher.start()
        try:
            await asyncio.wait_for(done.wait(), updates / rate + 120)
        except TimeoutError:
            log(f"{NAME}: not every delivery arrived")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        publisher.join(10)
    missing = followers * updates - sum(min(n, updates) for n in got)
    return latencies, missing, redis_connections


def run(quick: bool = False, keep: bool = False) -> list[Result]:
    from jobboard.core import accounts

    many = 100 if quick else 1000
    # (open streams, of which following the updated job, updates/s, updates)
    scenarios = [
        (1, 1, RATE, 30 if quick else 200),
        (many, 1, RATE, 30 if quick else 200),
        (many, many, 1.0, 10 if quick else 30),
        (many, many, RATE, 30 if quick else 100),
    ]
    results: list[Result] = []
    env = {"JOBBOARD_API_RATE_PER_MINUTE": "1000000"}  # 1,000 streams open within seconds
    with private_stack(NAME, app=True, app_processes=1, keep=keep, extra_env=env) as (stack, _):
        user = accounts.create_user(f"sse-bench-{uuid.uuid4().hex[:8]}@example.test", "x" * 16)
        token, _row = accounts.create_api_token(user.id, "bench")
        for streams, followers, rate, updates in scenarios:
            log(
                f"{NAME}: {streams} stream(s), {followers} following, {updates} updates at {rate}/s"
            )
            lat, missing, connections = asyncio.run(
                _scenario(stack.url, token, user.id, streams, followers, rate, updates)
            )
            label = (
                f"worker update → SSE client, {streams:,} open stream(s), "
                f"{followers:,} following the job, {rate:.0f} upd/s"
            )
            note = f"{len(lat):,} deliveries timed" + (f", {missing:,} MISSING" if missing else "")
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            results += [
                Result(NAME, f"{label}: p50", p50, "ms", f"≤ {P50_TARGET_MS:.0f}",
                       p50 <= P50_TARGET_MS, note),
                Result(NAME, f"{label}: p99", p99, "ms", f"≤ {P99_TARGET_MS:.0f}",
                       p99 <= P99_TARGET_MS and not missing),
                Result(NAME, f"{label}: max", max(lat, default=float("nan")), "ms"),
                Result(NAME, f"Redis connections with {streams:,} stream(s) open", connections,
                       "connections", note="all clients of the stack's Redis: the app (its "
                       "hub, pools), the bench process"),
            ]  # fmt: skip
    return results


def main(argv: list[str]) -> int:
    from bench.report import console_table

    print(console_table(run(quick="--quick" in argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

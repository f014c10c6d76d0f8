"""Webhook deliveries per second, end to end, to a local receiver; and what the webhook
dispatch adds to `events.publish()` for an owner without webhooks.

.venv/bin/python -m bench.webhooks [--quick]

A private stack (Redis, SQLite, `python -m workers` with 2 RQ workers) lets 127.0.0.1 through
the SSRF guard. The bench registers one webhook (all events) pointing at a threaded
http.server in this process that answers 200 at once, then publishes N `completed` events of N
jobs with `events.publish()` (what the lifecycle does when a job ends): each is signed, queued
on the `webhooks` queue, delivered by a worker and logged. Deliveries/s = N / (last request
received − first publish); latency = publish → request received, per event.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import Result, log, percentile, private_stack

NAME = "webhooks"
WORKERS = 2


@contextmanager
def _receiver(arrivals: dict[str, float]) -> Iterator[int]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                arrivals[self.headers.get("webhook-id", "")] = time.monotonic()
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _job(owner: str) -> dict[str, Any]:
    from jobboard.core import jobs
    from jobboard.core.models import Job, utcnow

    now = utcnow()
    return jobs.to_public(
        Job(
            id=str(uuid.uuid4()),
            owner_id=owner,
            kind="product_upload",
            title="bench.csv",
            status="completed",
            progress_data={"percentage": 100, "current_step": "Completed"},
            result_data={"imported": 1},
            created_at=now,
            started_at=now,
            updated_at=now,
            completed_at=now,
        )
    )


def _publish_cost(calls: int) -> tuple[float, float]:
    """µs per events.publish() of an owner without webhooks: (dispatch off, dispatch on)."""
    from jobboard.core import events

    owner = f"bench-no-hooks-{uuid.uuid4().hex[:8]}"
    job = _job(owner) | {"status": "processing"}
    real = events.queue_webhooks
    out = []
    for hook in (lambda *_a: None, real):
        events.queue_webhooks = hook  # type: ignore[assignment]
        try:
            for _ in range(200):  # warm-up
                events.publish(job, owner)
            started = time.perf_counter()
            for _ in range(calls):
                events.publish(job, owner)
            out.append((time.perf_counter() - started) / calls * 1e6)
        finally:
            events.queue_webhooks = real  # type: ignore[assignment]
    return out[0], out[1]


def run(quick: bool = False, keep: bool = False) -> list[Result]:
    count = 60 if quick else 300
    env = {"JOBBOARD_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    arrivals: dict[str, float] = {}
    with (
        private_stack(NAME, workers=WORKERS, keep=keep, extra_env=env) as (_stack, _var),
        _receiver(arrivals) as port,
    ):
        from jobboard.core import events, webhooks
        from jobboard.core.settings import get_settings
        from jobboard.core.webhooks import delivery, dispatch

        os.environ.update(env)  # this process saves the webhook: the guard reads it here too
        get_settings.cache_clear()

        without, with_dispatch = _publish_cost(2000 if quick else 20000)
        owner = f"bench-{uuid.uuid4().hex[:8]}"
        webhooks.create_webhook(owner, f"http://127.0.0.1:{port}/bench", ["all"])
        # Message ids are made in dispatch; remember when each was queued.
        sent: dict[str, float] = {}
        real_enqueue = dispatch.enqueue

        def timed_enqueue(webhook_id: str, message_id: str, *args: Any, **kwargs: Any) -> None:
            sent[message_id] = time.monotonic()
            real_enqueue(webhook_id, message_id, *args, **kwargs)

        dispatch.enqueue = timed_enqueue  # type: ignore[assignment]
        try:
            log(f"{NAME}: publishing {count} job endings")
            started = time.monotonic()
            for _ in range(count):
                events.publish(_job(owner), owner)
        finally:
            dispatch.enqueue = real_enqueue  # type: ignore[assignment]
        deadline = time.monotonic() + 600
        while len(arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        received = len(arrivals)
        last = max(arrivals.values()) if arrivals else time.monotonic()
        rate = received / (last - started) if received else 0.0
        latencies = [(arrivals[m] - sent[m]) * 1000 for m in sent if m in arrivals]
        hooks = webhooks.list_webhooks(owner)
        logged = len(webhooks.list_deliveries(owner, hooks[0].id, limit=200) or [])
        ok = all(a.ok for m in list(sent)[:20] for a in delivery.message_attempts(m))
    note = f"{received} of {count} received; {WORKERS} RQ workers, each delivering in-process"
    return [
        Result(NAME, "deliveries per second (end to end, local receiver)", rate, "/s", note=note),
        Result(NAME, "publish → request received, p50", percentile(latencies, 50), "ms"),
        Result(NAME, "publish → request received, p99", percentile(latencies, 99), "ms"),
        Result(
            NAME,
            "events.publish() without webhooks, dispatch off",
            without,
            "µs",
            note="same run, same Redis: the cost of one cached GET per event",
        ),
        Result(NAME, "events.publish() without webhooks, dispatch on", with_dispatch, "µs"),
        Result(
            NAME,
            "attempts logged and ok (first 20 messages checked)",
            float(logged if ok else 0),
            "rows",
            note="the log page shows at most 200 rows",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    for result in run(args.quick, args.keep):
        print(f"{result.metric}: {result.shown()} {result.unit} {result.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A signed-in page's plain `EventSource` follows a job to its end over SSE (issue 9, part 3)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.utils.browser import big_csv, submit

pytestmark = pytest.mark.browser

# What a page of any app would write: no token, no header; the sign-in cookie authenticates.
FOLLOW = """
(path) => {
  window.__sse = { messages: [], ids: [], errors: 0 };
  const source = new EventSource(path);
  window.__source = source;
  source.onmessage = (e) => {
    window.__sse.messages.push(JSON.parse(e.data));
    window.__sse.ids.push(e.lastEventId);
  };
  source.onerror = () => { window.__sse.errors += 1; };
}
"""
ENDED = """
() => {
  const m = window.__sse.messages;
  return m.length > 0 && ["completed", "failed", "cancelled"].includes(m[m.length - 1].status);
}
"""


def order_key(event_id: str) -> tuple[int, int, int]:
    entry, _, n = event_id.partition(".")
    ms, seq = entry.split("-")
    return int(ms), int(seq), int(n or 0)


def test_plain_event_source_follows_a_job_to_its_end(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    page.goto(f"{app_url}/tasks")
    job_id = submit(big_csv(tmp_path / "event-source.csv", 3_000), "event-source.csv")
    page.evaluate(FOLLOW, f"/api/v1/jobs/{job_id}/events")
    page.wait_for_function(ENDED, timeout=120_000)
    # After the final status the server ends the stream; the browser reconnects once with
    # Last-Event-ID, gets 204 and stops for good (no reconnect loop).
    page.wait_for_function("() => window.__source.readyState === EventSource.CLOSED")

    sse = page.evaluate("window.__sse")
    messages, ids = sse["messages"], sse["ids"]
    assert messages[0] == {"type": "connected", "job_id": job_id}
    updates = messages[1:]
    assert updates and all(m["type"] == "status_update" for m in updates)
    assert all(m["job_id"] == job_id for m in updates)
    assert updates[-1]["status"] == "completed", updates[-1]
    assert updates[-1]["progress"] == 100 and updates[-1]["result"]
    percents = [m["progress"] for m in updates]
    assert percents == sorted(percents)
    keys = [order_key(i) for i in ids]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), ids
    assert len(messages) == len({*ids})  # nothing repeated

    # Someone else's job, or none: an `error` event cannot reach onmessage (404 stops the
    # EventSource at once, which is the point: no reconnect loop), and nothing leaks.
    page.evaluate(FOLLOW, f"/api/v1/jobs/{uuid.uuid4()}/events")
    page.wait_for_function("() => window.__source.readyState === EventSource.CLOSED")
    assert page.evaluate("window.__sse.messages") == []
    page.evaluate("window.__source.close()")

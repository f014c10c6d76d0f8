"""SSE streams, resume, stream tokens and the long poll, over real HTTP against the running app.

Events are published the way a worker's reporter publishes them (`events.publish`), for jobs
recorded in the database, so the tests control exactly what happens and when; one test
follows a real job through the worker.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource, connect_sse

from jobboard.core import accounts, events, hub, jobs
from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus
from jobboard.core.redis import get_redis
from scripts.stack import Stack
from tests.conftest import wait_for
from tests.integration.test_api_v1 import (
    LEAKS,
    accepted,
    make_job,
    new_token,
    new_user,
    upload,
)

UPDATE_FIELDS = {
    "type",
    "job_id",
    "status",
    "progress",
    "progress_data",
    "result",
    "error",
    "updated_at",
}
TIMEOUT = httpx.Timeout(30.0)


@pytest.fixture(scope="module", autouse=True)
def someone_signed_up_first(services: Stack) -> None:
    """The first account takes over the local user's data; the users here never are it."""
    new_user()


@pytest.fixture
def connect(app_url: str) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = kwargs.pop("headers", {}) | (
            {"Authorization": f"Bearer {token}"} if token else {}
        )
        client = httpx.Client(base_url=app_url, headers=headers, timeout=TIMEOUT, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def alice(connect: Callable[..., httpx.Client]) -> httpx.Client:
    client = connect(new_token(user := new_user()))
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def bob(connect: Callable[..., httpx.Client]) -> httpx.Client:
    client = connect(new_token(user := new_user()))
    client.user = user  # type: ignore[attr-defined]
    return client


def owner_of(client: httpx.Client) -> str:
    return client.user.id  # type: ignore[attr-defined]


def running_job(owner: str) -> str:
    job_id = make_job(owner, JobStatus.PROCESSING)
    # Its "worker" is this test: keep the watchdog from failing a job nobody runs.
    get_redis().set(jobs.alive_key(job_id), "1", ex=3600)
    return job_id


def public(job_id: str) -> dict[str, Any]:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return jobs.to_public(job)


def progress(job_id: str, owner: str, value: int, status: str = JobStatus.PROCESSING) -> int:
    """Publish one update of the job the way the reporter does; returns the version."""
    body = public(job_id) | {
        "status": status,
        "progress_data": {"percentage": value, "current_step": f"step {value}"},
    }
    if status == JobStatus.COMPLETED:
        body["result_data"] = {"rows": value}
    return events.publish(body, owner)


@contextmanager
def stream(
    client: httpx.Client, path: str, **kwargs: Any
) -> Iterator[tuple[EventSource, Iterator[tuple[str, dict[str, Any]]]]]:
    """An SSE stream: its EventSource and an iterator of (id, message)."""
    with connect_sse(client, "GET", path, **kwargs) as source:

        def messages() -> Iterator[tuple[str, dict[str, Any]]]:
            for sse in source.iter_sse():
                if not sse.data:
                    # A heartbeat: httpx-sse (unlike browsers) reports a comment as an empty
                    # event once an id has been seen.
                    continue
                assert not LEAKS.search(sse.data), sse.data
                yield sse.id, json.loads(sse.data)

        yield source, messages()


def order_key(event_id: str) -> tuple[int, int, int]:
    entry, _, n = event_id.partition(".")
    ms, seq = entry.split("-")
    return int(ms), int(seq), int(n or 0)


def assert_increasing(ids: list[str]) -> None:
    keys = [order_key(i) for i in ids]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), ids


# --------------------------------------------------------------------------- one job


def test_follows_a_real_job_to_its_end(alice: httpx.Client) -> None:
    job_id = upload(alice)
    got: list[tuple[str, dict[str, Any]]] = []
    with stream(alice, f"/api/v1/jobs/{job_id}/events") as (source, messages):
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in source.response.headers
        got = list(messages)  # ends by itself after the final status
    ids = [i for i, _ in got]
    assert_increasing(ids)
    kinds = [m["type"] for _, m in got]
    assert kinds[0] == "connected" and got[0][1] == {"type": "connected", "job_id": job_id}
    updates = [m for _, m in got[1:]]
    assert updates and all(m["type"] == "status_update" for m in updates), kinds
    assert all(set(m) == UPDATE_FIELDS and m["job_id"] == job_id for m in updates)
    assert updates[-1]["status"] == "completed" and updates[-1]["progress"] == 100
    assert updates[-1]["result"]["imported"] >= 1 and updates[-1]["error"] is None
    assert [m["progress"] for m in updates] == sorted(m["progress"] for m in updates)
    final = alice.get(f"/api/v1/jobs/{job_id}").json()
    assert final["status"] == "completed"
    assert datetime.fromisoformat(final["updated_at"]) == datetime.fromisoformat(
        updates[-1]["updated_at"]
    )


def test_order_and_the_end_of_the_stream(alice: httpx.Client) -> None:
    owner = owner_of(alice)
    job_id = running_job(owner)
    with stream(alice, f"/api/v1/jobs/{job_id}/events") as (_source, messages):
        first_id, hello = next(messages)
        assert hello == {"type": "connected", "job_id": job_id}
        _, present = next(messages)
        assert present["type"] == "status_update" and present["status"] == "processing"
        for value in range(1, 51):
            progress(job_id, owner, value)
        progress(job_id, owner, 100, JobStatus.COMPLETED)
        rest = list(messages)
    assert [m["progress"] for _, m in rest] == [*range(1, 51), 100]
    assert rest[-1][1]["status"] == "completed" and rest[-1][1]["result"] == {"rows": 100}
    assert_increasing([first_id] + [i for i, _ in rest])
    # Reconnecting after the end (as EventSource does): 204, which stops an EventSource.
    again = alice.get(f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": rest[-1][0]})
    assert again.status_code == 204


@pytest.mark.parametrize("how", ["header", "query"])
def test_resume_after_a_forced_disconnect_loses_nothing(alice: httpx.Client, how: str) -> None:
    """Hundreds of events; the client drops mid-stream while more are published, then
    resumes: every update exactly once, in order."""
    owner = owner_of(alice)
    job_id = running_job(owner)
    total, cut = 400, 120
    seen: list[tuple[str, dict[str, Any]]] = []
    published = threading.Event()

    def publish_all() -> None:
        for value in range(1, total + 1):
            progress(job_id, owner, value)
        progress(job_id, owner, 1000, JobStatus.COMPLETED)
        published.set()

    publisher = threading.Thread(target=publish_all, daemon=True)
    with stream(alice, f"/api/v1/jobs/{job_id}/events") as (_source, messages):
        for _ in range(2):  # connected, present state (no progress yet)
            seen.append(next(messages))
        publisher.start()
        for event_id, message in messages:
            seen.append((event_id, message))
            if len(seen) >= cut:
                break  # leaves the block: the connection is closed mid-stream
    last_id = seen[-1][0]
    assert not published.is_set() or len(seen) == cut  # (the cut happened while publishing)
    kwargs: dict[str, Any] = (
        {"headers": {"Last-Event-ID": last_id}}
        if how == "header"
        else {"params": {"last_event_id": last_id}}
    )
    with stream(alice, f"/api/v1/jobs/{job_id}/events", **kwargs) as (_source, messages):
        _, hello = next(messages)
        assert hello == {"type": "connected", "job_id": job_id}
        resumed = list(messages)
    publisher.join(30)
    updates = [m for _, m in seen[2:] + resumed]
    assert all(m["type"] == "status_update" for m in updates)
    values = [m["progress"] for m in updates]
    assert values == [*range(1, total + 1), 1000], "lost or repeated updates"
    assert_increasing([i for i, _ in seen] + [i for i, _ in resumed])


def test_a_resume_point_the_log_lost_gets_resync(alice: httpx.Client) -> None:
    owner = owner_of(alice)
    job_id = running_job(owner)
    with stream(alice, f"/api/v1/jobs/{job_id}/events") as (_source, messages):
        next(messages)
        old_id, _ = next(messages)
        for value in range(1, 6):
            progress(job_id, owner, value)
        for _ in range(5):
            next(messages)
    # What 24 hours do to the log: its oldest entries are trimmed.
    log = events.log_key(owner)
    newest = get_redis().xrevrange(log, count=1)[0][0].decode()
    get_redis().xtrim(log, minid=newest, approximate=False)
    with stream(alice, f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": old_id}) as (
        _source,
        messages,
    ):
        got = [next(messages) for _ in range(3)]
        assert [m["type"] for _, m in got] == ["connected", "resync", "status_update"]
        assert got[2][1]["progress"] == 5 and got[2][1]["status"] == "processing"
        progress(job_id, owner, 6)
        live_id, live = next(messages)
        assert live["progress"] == 6
    assert_increasing([i for i, _ in got] + [live_id])


@pytest.mark.parametrize(
    "resume",
    [
        "abc",
        "9" * 5000,
        "99999999999999999999-0",  # beyond a stream id
        "18446744073709551615-18446744073709551615",  # in the future
        "-1",
        "1-2-3",
        "0-0.999999999999",
    ],
)
def test_hostile_resume_points_resync(alice: httpx.Client, resume: str) -> None:
    owner = owner_of(alice)
    job_id = running_job(owner)
    for where in ("header", "query"):
        kwargs: dict[str, Any] = (
            {"headers": {"Last-Event-ID": resume}}
            if where == "header"
            else {"params": {"last_event_id": resume}}
        )
        with stream(alice, f"/api/v1/jobs/{job_id}/events", **kwargs) as (source, messages):
            assert source.response.status_code == 200
            got = [next(messages) for _ in range(3)]
        assert [m["type"] for _, m in got] == ["connected", "resync", "status_update"], where


# --------------------------------------------------------------------------- the user stream


def test_user_stream_carries_only_the_callers_jobs(alice: httpx.Client, bob: httpx.Client) -> None:
    a_owner, b_owner = owner_of(alice), owner_of(bob)
    active = running_job(b_owner)
    with stream(bob, "/api/v1/events") as (_source, messages):
        first_id, hello = next(messages)
        assert hello == {"type": "connected", "user": b_owner}
        present_id, present = next(messages)  # the active job's present state
        assert present["job_id"] == active and present["status"] == "processing"
        other = running_job(b_owner)
        alices = running_job(a_owner)
        progress(alices, a_owner, 50)
        progress(active, b_owner, 10)
        progress(other, b_owner, 20)
        progress(active, b_owner, 100, JobStatus.COMPLETED)
        got = [next(messages) for _ in range(4)]
    assert [(m["job_id"], m["status"]) for _, m in got] == [
        (other, "processing"),  # recorded (make_job publishes it)
        (active, "processing"),
        (other, "processing"),
        (active, "completed"),
    ]
    assert [m["progress"] for _, m in got[1:]] == [10, 20, 100]
    assert_increasing([first_id, present_id] + [i for i, _ in got])

    # Resume the user stream from the middle.
    with stream(bob, "/api/v1/events", headers={"Last-Event-ID": got[1][0]}) as (_s, messages):
        assert next(messages)[1]["type"] == "connected"
        assert [next(messages)[1]["progress"] for _ in range(2)] == [20, 100]


# --------------------------------------------------------------------------- who may listen


def test_stream_credentials(connect: Callable[..., httpx.Client], alice: httpx.Client) -> None:
    owner = owner_of(alice)
    job_a, job_b = running_job(owner), running_job(owner)
    anonymous = connect()

    def status(client: httpx.Client, path: str, **kwargs: Any) -> int:
        with client.stream("GET", path, **kwargs) as response:
            if response.status_code >= 400:
                response.read()
                assert response.json()["detail"] and not LEAKS.search(response.text)
            return response.status_code

    path_a = f"/api/v1/jobs/{job_a}/events"
    assert status(anonymous, path_a) == 401
    assert status(anonymous, "/api/v1/events") == 401
    assert status(connect("jb_not-a-token"), path_a) == 401
    assert status(anonymous, path_a, params={"access_token": "jbs_nope"}) == 401
    assert status(anonymous, path_a, params={"access_token": "x" * 10_000}) == 401

    minted = alice.post("/api/v1/stream-tokens", json={"job_id": job_a})
    assert minted.status_code == 201, minted.text
    body = minted.json()
    assert body["scope"] == "job" and body["job_id"] == job_a and 0 < body["expires_in"] <= 3600
    token = body["token"]
    assert body["url"] == f"{path_a}?access_token={token}"
    with stream(anonymous, body["url"]) as (source, messages):
        assert source.response.status_code == 200
        assert next(messages)[1] == {"type": "connected", "job_id": job_a}
    # Scoped to one job: not another job, not the user stream, and never the REST routes.
    assert status(anonymous, f"/api/v1/jobs/{job_b}/events", params={"access_token": token}) == 403
    assert status(anonymous, "/api/v1/events", params={"access_token": token}) == 403
    for path in ("/api/v1/jobs", f"/api/v1/jobs/{job_a}", "/api/v1/jobs/latest"):
        assert anonymous.get(path, params={"access_token": token}).status_code == 401, path
    as_bearer = connect(token).get("/api/v1/jobs")
    assert as_bearer.status_code == 401

    user_token = alice.post("/api/v1/stream-tokens").json()
    assert user_token["scope"] == "user" and user_token["job_id"] is None
    with stream(anonymous, user_token["url"]) as (_source, messages):
        assert next(messages)[1] == {"type": "connected", "user": owner}
    user_params = {"access_token": user_token["token"]}
    assert status(anonymous, f"/api/v1/jobs/{job_b}/events", params=user_params) == 200

    # Expired (what the TTL does): refused.
    get_redis().delete("jobboard:stream-token:" + __import__("hashlib").sha256(
        token.encode()).hexdigest())  # fmt: skip
    assert status(anonymous, path_a, params={"access_token": token}) == 401

    # A token cannot be minted for someone else's job, or without credentials.
    bobs_job = running_job(new_user().id)
    assert alice.post("/api/v1/stream-tokens", json={"job_id": bobs_job}).status_code == 404
    assert anonymous.post("/api/v1/stream-tokens").status_code == 401
    assert alice.post("/api/v1/stream-tokens", json={"job_id": ""}).status_code == 422
    assert alice.post("/api/v1/stream-tokens", json={"job_id": "x" * 65}).status_code == 422
    assert alice.post("/api/v1/stream-tokens", json=["x"]).status_code == 422

    # The browser's sign-in cookie opens the streams too (a page's plain EventSource).
    secret = accounts.start_session(alice.user, address="127.0.0.1", user_agent="tests")  # type: ignore[attr-defined]
    with stream(connect(cookies={"jobboard_session": secret}), path_a) as (source, messages):
        assert next(messages)[1]["type"] == "connected"


def test_another_users_job_is_not_found(alice: httpx.Client, bob: httpx.Client) -> None:
    bobs = running_job(owner_of(bob))
    for job_id in (bobs, str(uuid.uuid4())):
        with stream(alice, f"/api/v1/jobs/{job_id}/events") as (source, messages):
            assert source.response.status_code == 404
            got = list(messages)  # one message, then the stream ends
        assert [m for _, m in got] == [{"type": "error", "message": "not found"}]
    # Alice's user stream never carries Bob's events.
    with stream(alice, "/api/v1/events") as (_source, messages):
        next(messages)
        progress(bobs, owner_of(bob), 10)
        mine = running_job(owner_of(alice))
        _, first = next(messages)
        assert first["job_id"] == mine


# --------------------------------------------------------------------------- heartbeat, fan-out


def test_heartbeat_and_no_compression(alice: httpx.Client) -> None:
    job_id = running_job(owner_of(alice))
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    with alice.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert response.headers["x-accel-buffering"] == "no"
        lines = response.iter_lines()
        # JOBBOARD_SSE_HEARTBEAT_SECONDS=1 in the tests (15 by default): a comment line.
        assert any(line.startswith(":") for line in lines)


def test_many_streams_share_one_subscription(
    alice: httpx.Client, app_url: str, services: Stack
) -> None:
    owner = owner_of(alice)
    job_id = running_job(owner)

    def connections() -> tuple[int, int]:
        """All connections, and those holding Jobboard's event subscription (the hub names
        its connection; Reflex's state lock holds pub/sub connections of its own)."""
        clients = get_redis().client_list()
        ours = [c for c in clients if c.get("name") == hub.CLIENT_NAME]
        assert all(int(c.get("psub", 0)) == 1 for c in ours), ours
        return len(clients), len(ours)

    before, _ = connections()
    count = 60
    client = httpx.Client(base_url=app_url, headers=alice.headers, timeout=TIMEOUT)
    opened = []
    try:
        for _ in range(count):
            cm = stream(client, f"/api/v1/jobs/{job_id}/events")
            _source, messages = cm.__enter__()
            next(messages)
            next(messages)
            opened.append((cm, messages))
        total, subscribers = connections()
        # One event subscription per app process (two here), not 60.
        assert 1 <= subscribers <= services.app_processes, subscribers
        assert total - before < count // 2, (before, total)
        progress(job_id, owner, 42)
        for _cm, messages in opened:
            assert next(messages)[1]["progress"] == 42
    finally:
        for cm, _messages in opened:
            cm.__exit__(None, None, None)
        client.close()


# --------------------------------------------------------------------------- long poll


def test_long_poll(alice: httpx.Client, bob: httpx.Client) -> None:
    owner = owner_of(alice)
    job_id = running_job(owner)
    job = alice.get(f"/api/v1/jobs/{job_id}").json()
    version = job["version"]
    assert version >= 1

    # Newer than asked: at once.
    older = alice.get(f"/api/v1/jobs/{job_id}", params={"since_version": version - 1})
    assert older.status_code == 200 and older.json()["version"] == version

    # Nothing newer within the wait (JOBBOARD_LONG_POLL_SECONDS=2 in the tests): 304, no body.
    same = alice.get(f"/api/v1/jobs/{job_id}", params={"since_version": version})
    assert same.status_code == 304 and same.content == b""

    # A change during the wait answers the poll with it.
    answer: dict[str, httpx.Response] = {}
    poll = threading.Thread(
        target=lambda: answer.setdefault(
            "r", alice.get(f"/api/v1/jobs/{job_id}", params={"since_version": version})
        )
    )
    poll.start()
    # Publish until the poll has its answer (the poll may not be listening yet at first).
    value = 0

    def answered() -> bool:
        nonlocal value
        value += 1
        progress(job_id, owner, value)
        poll.join(0.2)
        return "r" in answer

    wait_for(answered, 20, "the long poll's answer")
    response = answer["r"]
    assert response.status_code == 200, response.text
    assert response.json()["version"] > version and response.json()["progress_data"]["percentage"]

    # Someone else's job: 404 at once, as without since_version.
    assert bob.get(f"/api/v1/jobs/{job_id}", params={"since_version": 0}).status_code == 404


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "", "9" * 40, "0x10"])
def test_long_poll_hostile_versions(alice: httpx.Client, value: str) -> None:
    job_id = running_job(owner_of(alice))
    response = alice.get(f"/api/v1/jobs/{job_id}", params={"since_version": value})
    assert response.status_code == 422, response.text
    assert "since_version" in response.json()["detail"]
    assert not LEAKS.search(response.text)


def test_a_job_started_over_the_api_can_be_followed(alice: httpx.Client) -> None:
    """The flow the README shows: start, mint a stream token, follow with it."""
    job_id = accepted(alice.post("/api/v1/export-catalog-job", json={"format": "plain"}))
    url = alice.post("/api/v1/stream-tokens", json={"job_id": job_id}).json()["url"]
    anonymous = httpx.Client(base_url=str(alice.base_url), timeout=TIMEOUT)
    with anonymous, stream(anonymous, url) as (_source, messages):
        got = [m for _, m in messages]
    assert got[0]["type"] == "connected"
    assert got[-1]["status"] in JobStatus.TERMINAL
    wait_for(lambda: alice.get(f"/api/v1/jobs/{job_id}").json()["status"] == got[-1]["status"])

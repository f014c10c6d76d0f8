"""Webhooks against a local receiver (let through by JOBBOARD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1,
retries shrunk to 1 s, see tests/conftest.py): Standard Webhooks signatures, retries and their
log, 410, redirects, the SSRF guard at save and at delivery, rotation, isolation, throttling."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col
from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError

from jobboard.core import accounts, events, jobs, webhooks
from jobboard.core.db import session_scope
from jobboard.core.models import Job, JobStatus, utcnow
from jobboard.core.public import JobPublic
from jobboard.core.redis import get_redis
from jobboard.core.webhooks import delivery, dispatch, ssrf
from jobboard.core.webhooks.models import Webhook, WebhookDelivery
from scripts.stack import Stack
from tests.conftest import SHOPIFY_SAMPLE, wait_for
from tests.integration.test_api_v1 import assert_no_leak
from tests.utils.receiver import Receiver, receiver

PASSWORD = "correct horse battery"
PUBLIC_FIELDS = set(JobPublic.model_fields)

# One address of every class the guard refuses, as it would be typed in a URL.
BLOCKED = {
    "loopback": "127.0.0.2",
    "loopback v6": "[::1]",
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.16.0.1",
    "private 192.168/16": "192.168.1.1",
    "link-local metadata": "169.254.169.254",
    "link-local v6": "[fe80::1]",
    "CGNAT": "100.64.0.1",
    "unique-local v6": "[fd00::1]",
    "IPv4-mapped v6": "[::ffff:127.0.0.1]",
    "unspecified": "0.0.0.0",
    "unspecified v6": "[::]",
    "multicast": "224.0.0.1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "decimal loopback": "2130706434",
}


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    with receiver() as rec:
        yield rec


def new_user() -> accounts.User:
    return accounts.create_user(f"wh-{uuid.uuid4().hex[:12]}@example.com", PASSWORD)


@pytest.fixture
def connect(app_url: str) -> Iterator[Callable[[accounts.User], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(user: accounts.User) -> httpx.Client:
        raw, _row = accounts.create_api_token(user.id, "webhook tests")
        client = httpx.Client(
            base_url=app_url,
            headers={"Authorization": f"Bearer {raw}"},
            timeout=60,
            event_hooks={"response": [assert_no_leak]},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def path() -> str:
    return f"/hook/{uuid.uuid4().hex[:10]}"


def verify(secret: str, got: Any) -> dict[str, Any]:
    """The payload, once `standardwebhooks` accepted the request's signature."""
    return Verifier(secret).verify(got.body, got.headers)


def fake_job(owner: str, status: str = JobStatus.COMPLETED, step: str = "Completed") -> Job:
    now = utcnow()
    return Job(
        id=str(uuid.uuid4()),
        owner_id=owner,
        kind="product_upload",
        title="webhook test.csv",
        status=status,
        progress_data={"percentage": 50, "current_step": step},
        created_at=now,
        updated_at=now,
        started_at=now,
        completed_at=now if status in JobStatus.TERMINAL else None,
    )


def attempts_of(message_id: str, count: int, timeout: float = 30) -> list[WebhookDelivery]:
    return wait_for(
        lambda: (rows := delivery.message_attempts(message_id)) and len(rows) >= count and rows,
        timeout,
        f"{count} logged attempts of {message_id}",
    )


def test_a_real_job_sends_signed_events_that_standardwebhooks_verifies(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    user = new_user()
    client = connect(user)
    where = path()
    created = client.post(
        "/api/v1/webhooks",
        json={"url": hooks.url(where), "event_types": ["all"], "description": "shop sync"},
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert hook["event_types"] == ["all"] and hook["active"] is True
    # Shown once: never in a read.
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert all("secret" not in h for h in client.get("/api/v1/webhooks").json())

    with SHOPIFY_SAMPLE.open("rb") as f:
        answer = client.post(
            "/api/v1/product-upload-job", files={"file": ("shop.csv", f, "text/csv")}
        )
    job_id = answer.json()["job_id"]

    def completed() -> list[dict[str, Any]] | None:
        bodies = [verify(secret, r) for r in hooks.at(where)]
        return bodies if any(b["event_type"] == "completed" for b in bodies) else None

    bodies = wait_for(completed, 60, "the completed webhook")
    assert {b["job_id"] for b in bodies} == {job_id}
    assert [b["event_type"] for b in bodies].count("completed") == 1
    assert {b["event_type"] for b in bodies} <= {"progress", "completed"}
    for body in bodies:
        assert set(body) == PUBLIC_FIELDS | {"event_type", "user_id", "job_id"}
        assert body["user_id"] == user.id and body["id"] == job_id
        assert "details" not in (body["error_data"] or {})
    final = bodies[-1]
    assert final["status"] == "completed" and final["result_data"]["imported"] > 0
    for got in hooks.at(where):
        assert got.headers["content-type"] == "application/json"
        assert got.headers["webhook-id"].startswith("msg_")
        assert got.headers["webhook-signature"].startswith("v1,")
        # A wrong secret or a changed body fails verification.
        with pytest.raises(WebhookVerificationError):
            Verifier(webhooks.new_secret()).verify(got.body, got.headers)
        with pytest.raises(WebhookVerificationError):
            verify(secret, type(got)(got.path, got.headers, got.body + b" ", got.at))
    log = wait_for(
        lambda: (
            len(rows := client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json())
            == len(hooks.at(where))
            and rows
        ),
        20,
        "every request in the log",
    )
    assert all(d["ok"] for d in log)
    assert all(d["status_code"] == 200 and d["response_excerpt"] == "ok" for d in log)
    assert all(d["latency_ms"] is not None and d["latency_ms"] >= 0 for d in log)


def test_a_receiver_that_fails_twice_then_succeeds_gets_three_logged_attempts(
    services: Stack, hooks: Receiver
) -> None:
    user = new_user()
    where = path()
    hooks.answer(where, (500, {}, b"boom 1"), (503, {}, b"boom 2"))
    hook, secret = webhooks.create_webhook(user.id, hooks.url(where), ["completed"])
    job = fake_job(user.id)
    events.publish(jobs.to_public(job), user.id)
    got = hooks.wait(where, 3)
    assert len({r.headers["webhook-id"] for r in got}) == 1  # one message, retried
    for r in got:
        assert verify(secret, r)["job_id"] == job.id
    rows = attempts_of(got[0].headers["webhook-id"], 3)
    assert [(r.attempt, r.status_code, r.ok) for r in rows] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert rows[0].response_excerpt == "boom 1" and rows[0].next_attempt_at is not None
    assert rows[2].next_attempt_at is None
    fresh = webhooks.get_webhook(user.id, hook.id)
    assert fresh is not None and fresh.active and fresh.failing_since is None


def test_a_hostile_answer_is_logged_safely(services: Stack, hooks: Receiver) -> None:
    """A huge body with NUL bytes: 2 KB of it are kept, without the NULs (PostgreSQL text)."""
    user = new_user()
    where = path()
    hooks.answer(where, (500, {}, b"\x00bad" + b"x" * 100_000))
    hook, _ = webhooks.create_webhook(user.id, hooks.url(where), ["all"])
    message_id = "msg_" + uuid.uuid4().hex
    body = webhooks.sample_payload(user.id)
    assert delivery.deliver(hook.id, message_id, "test", None, body, trigger="test") == "failed"
    [row] = delivery.message_attempts(message_id)
    assert row.status_code == 500 and row.error == "HTTP 500"
    assert len(row.response_excerpt) == 2048 and row.response_excerpt.startswith("\ufffdbad")


def test_retry_after_is_honoured(services: Stack, hooks: Receiver) -> None:
    user = new_user()
    where = path()
    hooks.answer(where, (429, {"Retry-After": "3"}, b"slow down"))
    webhooks.create_webhook(user.id, hooks.url(where), ["failed"])
    events.publish(jobs.to_public(fake_job(user.id, JobStatus.FAILED, "Failed")), user.id)
    got = hooks.wait(where, 2)
    rows = attempts_of(got[0].headers["webhook-id"], 2)
    first = rows[0]
    assert first.status_code == 429 and first.next_attempt_at is not None
    # The schedule says 1 s (±20 %); the receiver asked for 3.
    assert first.next_attempt_at - first.attempted_at >= timedelta(seconds=3)
    assert rows[1].ok


def test_410_gone_turns_the_webhook_off(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    user = new_user()
    client = connect(user)
    where = path()
    hooks.answer(where, (410, {}, b"gone"))
    hook = client.post(
        "/api/v1/webhooks", json={"url": hooks.url(where), "event_types": ["completed"]}
    ).json()
    events.publish(jobs.to_public(fake_job(user.id)), user.id)
    hooks.wait(where, 1)
    shown = wait_for(
        lambda: (h := client.get(f"/api/v1/webhooks/{hook['id']}").json())["active"] is False and h,
        20,
        "the webhook to be off",
    )
    assert "410" in shown["disabled_reason"]
    [row] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
    assert row["status_code"] == 410 and row["next_attempt_at"] is None
    # Off means off: the next job's ending is not sent (nothing is even queued).
    queued = dispatch.subscriptions(user.id)
    assert queued == []
    # Turning it back on clears the reason.
    again = client.put(f"/api/v1/webhooks/{hook['id']}", json={"active": True}).json()
    assert again["active"] is True and again["disabled_reason"] == ""


def test_failing_for_three_days_turns_the_webhook_off(services: Stack, hooks: Receiver) -> None:
    user = new_user()
    where = path()
    hooks.answer(where, (500, {}, b"down"))
    hook, _secret = webhooks.create_webhook(user.id, hooks.url(where), ["completed"])
    with session_scope() as session:
        row = session.get(Webhook, hook.id)
        assert row is not None
        row.failing_since = utcnow() - timedelta(days=3, minutes=1)
        session.add(row)
    body = dispatch.payload(jobs.to_public(fake_job(user.id)), user.id, "completed")
    assert delivery.deliver(hook.id, "msg_" + uuid.uuid4().hex, "completed", None, body) == "failed"
    fresh = webhooks.get_webhook(user.id, hook.id)
    assert fresh is not None and not fresh.active
    assert "3 days" in fresh.disabled_reason


def test_a_redirect_is_not_followed(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    user = new_user()
    client = connect(user)
    where, elsewhere = path(), path()
    hooks.answer(where, (302, {"Location": hooks.url(elsewhere)}, b""))
    hook = client.post(
        "/api/v1/webhooks", json={"url": hooks.url(where), "event_types": ["completed"]}
    ).json()
    sent = client.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert sent.status_code == 202
    hooks.wait(where, 1)
    log = wait_for(
        lambda: client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json(), 20, "the log"
    )
    assert [(d["status_code"], d["ok"], d["trigger"]) for d in log] == [(302, False, "test")]
    assert hooks.at(elsewhere) == []


@pytest.mark.parametrize("kind", sorted(BLOCKED))
def test_every_blocked_address_class_is_refused_when_saved(
    connect: Callable[[accounts.User], httpx.Client], kind: str
) -> None:
    client = connect(new_user())
    url = f"https://{BLOCKED[kind]}/hook"
    answer = client.post("/api/v1/webhooks", json={"url": url, "event_types": ["all"]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("Webhooks cannot be sent to")
    assert client.get("/api/v1/webhooks").json() == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/x", "https://"),
        ("javascript:alert(1)", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://user:pw@example.com/", "user name or password"),
        ("", "Enter the URL"),
        ("   ", "Enter the URL"),
        ("https://", "no host"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/\r\nX-Evil: 1", "spaces or control"),
        ("https://example.com:99999/", "not valid"),
        ("https://example.com/#frag", "fragment"),
        ("https://" + "a" * 2100 + ".com/", "2048"),
        ("https://no-such-host.invalid/", "could not be resolved"),
    ],
)
def test_hostile_urls_get_a_clear_422(
    connect: Callable[[accounts.User], httpx.Client], url: str, says: str
) -> None:
    client = connect(new_user())
    answer = client.post("/api/v1/webhooks", json={"url": url, "event_types": ["all"]})
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"event_types": ["everything"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"event_types": "all"}, "event_types"),
        ({"description": "x" * 301}, "description"),
        ({"description": "bidi \u202e trick"}, "invisible"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"active": "maybe"}, "active"),
    ],
)
def test_hostile_fields_get_a_clear_422(
    connect: Callable[[accounts.User], httpx.Client],
    hooks: Receiver,
    body: dict[str, Any],
    says: str,
) -> None:
    client = connect(new_user())
    answer = client.post(
        "/api/v1/webhooks", json={"url": hooks.url(), "event_types": ["all"]} | body
    )
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]
    assert client.get("/api/v1/webhooks").json() == []


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Host names this process resolves as the test says (what a rebinding DNS would do)."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            return real(table[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", fake)
    return table


@pytest.mark.parametrize("kind", sorted(BLOCKED))
def test_every_blocked_address_class_is_refused_at_delivery(
    services: Stack, dns: dict[str, str], kind: str
) -> None:
    """Saved while the name was public; by the delivery DNS says otherwise: no connection."""
    user = new_user()
    dns["hooks.rebind.test"] = "93.184.215.14"
    hook, _secret = webhooks.create_webhook(user.id, "https://hooks.rebind.test/in", ["all"])
    address = BLOCKED[kind].strip("[]")
    dns["hooks.rebind.test"] = str(socket.getaddrinfo(address, 443)[0][4][0])
    body = webhooks.sample_payload(user.id)
    message_id = "msg_" + uuid.uuid4().hex
    assert delivery.deliver(hook.id, message_id, "test", None, body, trigger="test") == "failed"
    [row] = delivery.message_attempts(message_id)
    assert row.error.startswith("refused: Webhooks cannot be sent to hooks.rebind.test")
    assert row.status_code is None and not row.ok


def test_the_connection_goes_to_the_checked_address(
    services: Stack, dns: dict[str, str], hooks: Receiver
) -> None:
    """A named host is resolved once, checked, and connected to by that address; the request
    still names the host (Host header), as a virtual host or TLS needs."""
    user = new_user()
    where = path()
    dns["receiver.pinned.test"] = "127.0.0.1"
    hook, _secret = webhooks.create_webhook(
        user.id, f"http://receiver.pinned.test:{hooks.port}{where}", ["all"]
    )
    outcome = delivery.send(hook, "msg_pinned", b'{"hello":"world"}')
    assert outcome["status_code"] == 200, outcome
    [got] = hooks.at(where)
    assert got.headers["host"] == f"receiver.pinned.test:{hooks.port}"
    target = ssrf.check_target(f"https://receiver.pinned.test:8443{where}?a=1")
    assert target.pinned_url == f"https://127.0.0.1:8443{where}?a=1"
    assert target.host_header == "receiver.pinned.test:8443"


def test_rotation_signs_with_both_secrets_for_a_day(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    client = connect(new_user())
    where = path()
    hook = client.post(
        "/api/v1/webhooks", json={"url": hooks.url(where), "event_types": ["all"]}
    ).json()
    old = hook["secret"]
    rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    until = rotated.json()["previous_secret_expires_at"]
    assert until is not None
    assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    [got] = hooks.wait(where, 1)
    signatures = got.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    # A receiver still on the old secret and one already on the new one both accept it.
    assert verify(old, got)["event_type"] == "test"
    assert verify(new, got)["event_type"] == "test"
    # After the overlap only the new secret signs.
    with session_scope() as session:
        row = session.get(Webhook, hook["id"])
        assert row is not None
        row.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    later = hooks.wait(where, 2)[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert verify(new, later)
    with pytest.raises(WebhookVerificationError):
        verify(old, later)


def test_another_users_webhook_is_not_found_and_gets_nothing_of_theirs(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    alice, bob = new_user(), new_user()
    as_alice, as_bob = connect(alice), connect(bob)
    where = path()
    hook = as_alice.post(
        "/api/v1/webhooks", json={"url": hooks.url(where), "event_types": ["all"]}
    ).json()
    assert as_alice.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    hooks.wait(where, 1)
    [logged] = wait_for(
        lambda: as_alice.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json(), 20, "the log"
    )
    base = f"/api/v1/webhooks/{hook['id']}"
    for method, url, body in [
        ("GET", base, None),
        ("PUT", base, {"description": "mine now"}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/deliveries/{logged['id']}/redeliver", None),
    ]:
        answer = as_bob.request(method, url, json=body)
        assert answer.status_code == 404, (method, url, answer.text)
        assert answer.json() == {"detail": "not found"}
    assert as_bob.get("/api/v1/webhooks").json() == []
    # Bob's own webhook cannot resend Alice's delivery either.
    bobs = as_bob.post(
        "/api/v1/webhooks", json={"url": hooks.url(path()), "event_types": ["all"]}
    ).json()
    answer = as_bob.post(f"/api/v1/webhooks/{bobs['id']}/deliveries/{logged['id']}/redeliver")
    assert answer.status_code == 404
    # Bob's jobs never reach Alice's webhook.
    events.publish(jobs.to_public(fake_job(bob.id)), bob.id)
    assert webhooks.get_webhook(alice.id, hook["id"]) is not None
    assert webhooks.get_webhook(bob.id, hook["id"]) is None
    assert dispatch.subscriptions(bob.id) == [{"id": bobs["id"], "events": ["all"]}]
    unchanged = as_alice.get(base).json()
    assert unchanged["description"] == "" and unchanged["active"]


def test_resend_repeats_the_message_with_its_id(
    connect: Callable[[accounts.User], httpx.Client], hooks: Receiver
) -> None:
    client = connect(new_user())
    where = path()
    hook = client.post(
        "/api/v1/webhooks", json={"url": hooks.url(where), "event_types": ["all"]}
    ).json()
    client.post(f"/api/v1/webhooks/{hook['id']}/test")
    [first] = hooks.wait(where, 1)
    [logged] = wait_for(
        lambda: client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json(), 20, "the log"
    )
    again = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{logged['id']}/redeliver")
    assert again.status_code == 202 and again.json()["message_id"] == logged["message_id"]
    second = hooks.wait(where, 2)[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert json.loads(second.body) == json.loads(first.body)
    log = wait_for(
        lambda: (
            len(rows := client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()) == 2
            and rows
        ),
        20,
        "the resend in the log",
    )
    assert [d["trigger"] for d in log] == ["resend", "test"]
    bogus = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{'x' * 65}/redeliver")
    assert bogus.status_code == 422


def test_progress_events_are_throttled_per_job(
    services: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most one progress webhook per job per 5 s plus every step change; an ending once."""
    user = new_user()
    webhooks.create_webhook(user.id, "http://127.0.0.1:9/never", ["all"])
    queued: list[str] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda _w, _m, kind, *a, **k: queued.append(kind))
    job = fake_job(user.id, JobStatus.PROCESSING, "Reading rows")

    def report(step: str, status: str = JobStatus.PROCESSING) -> None:
        job.status, job.progress_data = status, {"percentage": 1, "current_step": step}
        events.publish(jobs.to_public(job), user.id)

    for _ in range(50):
        report("Reading rows")
    assert queued == ["progress"]
    report("Importing")  # a step change goes out at once
    for _ in range(20):
        report("Importing")
    assert queued == ["progress"] * 2
    # Five seconds later (the throttle's clock moved back) the same step goes out again.
    get_redis().hset(dispatch.throttle_key(job.id), "at", 0)
    report("Importing")
    report("Importing")
    assert queued == ["progress"] * 3
    report("Completed", JobStatus.COMPLETED)
    report("Completed", JobStatus.COMPLETED)  # announced again (watchdog, resync): sent once
    report("Late progress")  # ignored by events.publish after the ending
    assert queued == ["progress"] * 3 + ["completed"]


def test_event_types_choose_what_is_sent(services: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    user = new_user()
    only_failed, _ = webhooks.create_webhook(user.id, "http://127.0.0.1:9/a", ["failed"])
    ends, _ = webhooks.create_webhook(user.id, "http://127.0.0.1:9/b", ["completed", "failed"])
    queued: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda w, _m, kind, *a, **k: queued.append((w, kind)))
    events.publish(jobs.to_public(fake_job(user.id, JobStatus.PROCESSING, "Go")), user.id)
    events.publish(jobs.to_public(fake_job(user.id)), user.id)
    events.publish(jobs.to_public(fake_job(user.id, JobStatus.FAILED, "Failed")), user.id)
    assert queued == [(ends.id, "completed"), (only_failed.id, "failed"), (ends.id, "failed")]


def test_an_owner_without_webhooks_costs_one_cached_lookup(services: Stack) -> None:
    user = new_user()
    assert dispatch.subscriptions(user.id) == []
    assert get_redis().get(dispatch.subscriptions_key(user.id)) == b"[]"
    hook, _ = webhooks.create_webhook(user.id, "http://127.0.0.1:9/c", ["all"])
    assert get_redis().get(dispatch.subscriptions_key(user.id)) is None  # dropped on change
    assert dispatch.subscriptions(user.id) == [{"id": hook.id, "events": ["all"]}]


def test_old_delivery_log_entries_are_purged(services: Stack, hooks: Receiver) -> None:
    user = new_user()
    hook, _ = webhooks.create_webhook(user.id, hooks.url(path()), ["all"])
    old_id, new_id = "msg_" + uuid.uuid4().hex, "msg_" + uuid.uuid4().hex
    body = webhooks.sample_payload(user.id)
    delivery.deliver(hook.id, old_id, "test", None, body, trigger="test")
    delivery.deliver(hook.id, new_id, "test", None, body, trigger="test")
    [row] = delivery.message_attempts(old_id)
    with session_scope() as session:
        session.exec(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == row.id)
            .values(attempted_at=utcnow() - timedelta(days=31))
        )
    assert webhooks.purge_log() >= 1
    assert delivery.message_attempts(old_id) == []
    assert len(delivery.message_attempts(new_id)) == 1
    assert webhooks.get_delivery(user.id, hook.id, row.id) is None


def test_a_webhook_failure_never_reaches_the_job(
    services: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong in the dispatch, publish() (and so the job) goes on."""
    user = new_user()

    def broken(_owner: str) -> list[dict[str, Any]]:
        raise RuntimeError("the webhook cache is broken")

    monkeypatch.setattr(dispatch, "subscriptions", broken)
    job = fake_job(user.id, JobStatus.PROCESSING, "Going")
    version = events.publish(jobs.to_public(job), user.id)
    assert version >= 1
    assert events.read_snapshots([job.id])[job.id]["version"] == version


def test_every_webhook_route_needs_credentials(app_url: str) -> None:
    routes = [
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks/x"),
        ("PUT", "/api/v1/webhooks/x"),
        ("DELETE", "/api/v1/webhooks/x"),
        ("POST", "/api/v1/webhooks/x/rotate-secret"),
        ("POST", "/api/v1/webhooks/x/test"),
        ("GET", "/api/v1/webhooks/x/deliveries"),
        ("POST", "/api/v1/webhooks/x/deliveries/y/redeliver"),
    ]
    with httpx.Client(base_url=app_url, timeout=60) as client:
        for method, url in routes:
            answer = client.request(method, url, json={})
            assert answer.status_code == 401, (method, url, answer.text)
            bad = client.request(method, url, headers={"Authorization": "Bearer jb_nope"})
            assert bad.status_code == 401, (method, url, bad.text)

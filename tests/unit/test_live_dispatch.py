"""The live fan-out's two paths (jobboard.state.live): progress frames and state updates.

A fake app stands in for Reflex: it records which sessions' states were opened
(`modify_state`) and which sockets got a progress frame (`emit`). No Redis needed.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import socketio
from reflex.app import _sio_dumps, _sio_loads

from jobboard.state import live, session
from jobboard.state.active_jobs import ActiveJobsState
from tests.utils.aio import run

INSTANCE = "this-process"


def _server() -> socketio.AsyncServer:
    """A real Socket.IO server encoding as Reflex's does; its sockets are stand-ins."""
    return socketio.AsyncServer(
        async_mode="asgi",
        json=SimpleNamespace(dumps=staticmethod(_sio_dumps), loads=staticmethod(_sio_loads)),
    )


@dataclass
class FakeNamespace:
    namespace: str = "/_event"
    server: socketio.AsyncServer = field(default_factory=_server)
    token_to_socket: dict[str, Any] = field(default_factory=dict)
    emitted: list[tuple[str, Any, list[str]]] = field(default_factory=list)
    sent: dict[str, list[Any]] = field(default_factory=dict)  # sid -> engine.io packets queued

    @property
    def _token_manager(self) -> SimpleNamespace:
        return SimpleNamespace(token_to_socket=self.token_to_socket, instance_id=INSTANCE)

    async def emit_update(self, update: Any, token: str) -> None:
        self.emitted.append(("event", update, [self.token_to_socket[token].sid]))

    def open_socket(self, sid: str) -> list[Any]:
        """An engine.io socket for `sid`, as python-socketio finds it; returns its send queue."""
        eio_sid = f"eio-{sid}"
        self.server.manager.rooms.setdefault(self.namespace, {}).setdefault(None, {})[sid] = eio_sid
        sent: list[Any] = []
        self.server.eio.sockets[eio_sid] = SimpleNamespace(
            closed=False, queue=SimpleNamespace(put_nowait=sent.append)
        )
        self.sent[sid] = sent
        return sent


class FakeApp:
    """Opens no real state: records whose state a delivery would have opened."""

    def __init__(self) -> None:
        self.event_namespace = FakeNamespace()
        self.opened: list[str] = []

    @contextlib.asynccontextmanager
    async def modify_state(self, token: Any):
        self.opened.append(token.ident)

        class Root:
            async def get_state(self, cls: type) -> Any:
                return SimpleNamespace(apply_job_event=lambda event: None)

        yield Root()

    def connect(self, token: str, sid: str) -> None:
        self.event_namespace.token_to_socket[token] = SimpleNamespace(sid=sid, instance_id=INSTANCE)
        self.event_namespace.open_socket(sid)


def _event(owner: str, job_id: str, version: int, status: str, step: str = "") -> dict[str, Any]:
    return {
        "owner_id": owner,
        "version": version,
        "job": {
            "id": job_id,
            "kind": "product_upload",
            "title": "catalog.csv",
            "status": status,
            "progress_data": {"percentage": version, "current_step": step},
            "created_at": "2026-11-26T10:00:00+00:00",
            "updated_at": f"2026-11-26T10:00:{version:02d}+00:00",
        },
    }


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApp]:
    signed_in = {"tab-a1": "alice", "tab-a2": "alice", "tab-b": "bob"}

    async def still_signed_in(token: str, owner_id: str) -> bool:
        return signed_in.get(token) == owner_id

    monkeypatch.setattr(session, "still_signed_in", still_signed_in)
    monkeypatch.setattr(live, "_watchers", defaultdict(dict))
    monkeypatch.setattr(live, "_running", {})
    monkeypatch.setattr(live, "_checked_at", {})
    monkeypatch.setattr(live, "CHECK_EVERY", 0.0)  # every dispatch checks (one test sets it)
    fake = FakeApp()
    for token, sid in (("tab-a1", "sid-a1"), ("tab-a2", "sid-a2"), ("tab-b", "sid-b")):
        fake.connect(token, sid)
        live.watch(signed_in[token], token, "header", ActiveJobsState)
    fake.signed_in = signed_in  # type: ignore[attr-defined]
    yield fake


def _frames(app: FakeApp) -> list[tuple[dict[str, Any], list[str]]]:
    """(frame, sids) of every progress frame sent, as the sockets' writers would send it."""
    name, key = live._FRAME_DELTA
    namespace = app.event_namespace
    frames: dict[str, tuple[dict[str, Any], list[str]]] = {}  # one packet, many sockets
    for sid, packets in namespace.sent.items():
        for pkt in packets:
            event = socketio.packet.Packet(encoded_packet=pkt.data)
            assert event.namespace == namespace.namespace
            assert event.data[0] == "event"
            frame = event.data[1]["delta"][name][key]
            frames.setdefault(str(id(pkt)), (frame, []))[1].append(sid)
    return list(frames.values())


def test_progress_of_a_running_job_is_one_frame_to_its_owners_sessions_only(app: FakeApp) -> None:
    run(live.dispatch(app, [_event("alice", "j1", 1, "queued")]))
    run(live.dispatch(app, [_event("alice", "j1", 2, "processing", "Reading")]))
    assert sorted(app.opened) == ["tab-a1", "tab-a1", "tab-a2", "tab-a2"]  # both via the states
    assert _frames(app) == []

    app.opened.clear()
    run(live.dispatch(app, [_event("alice", "j1", 3, "processing", "Importing 10 of 40")]))
    assert app.opened == []  # no session state was read or written
    [(frame, sids)] = _frames(app)
    assert sorted(sids) == ["sid-a1", "sid-a2"]  # never bob's socket
    assert frame["j1"]["version"] == 3
    assert frame["j1"]["step"] == "Importing 10 of 40"
    assert frame["j1"]["percentage_text"] == "3 %"


def test_an_ending_goes_through_the_states_again(app: FakeApp) -> None:
    for version, status in ((1, "processing"), (2, "processing"), (3, "completed")):
        run(live.dispatch(app, [_event("alice", "j2", version, status)]))
    assert app.opened.count("tab-a1") == 2  # the first sight and the ending
    assert len(_frames(app)) == 1
    # Seen again after its ending (a retry reusing nothing): a full update first.
    run(live.dispatch(app, [_event("alice", "j2", 4, "processing")]))
    assert app.opened.count("tab-a1") == 3


def test_a_burst_keeps_only_each_jobs_newest_progress(app: FakeApp) -> None:
    run(live.dispatch(app, [_event("alice", "j3", 1, "processing")]))
    burst = [_event("alice", "j3", v, "processing", f"step {v}") for v in (5, 3, 4)]
    run(live.dispatch(app, burst))
    [(frame, _)] = _frames(app)
    assert frame["j3"]["step"] == "step 5"


def test_signed_out_sessions_get_no_frames_and_a_lone_owner_is_forgotten(app: FakeApp) -> None:
    run(live.dispatch(app, [_event("alice", "j4", 1, "processing")]))
    app.signed_in["tab-a2"] = ""  # type: ignore[attr-defined]
    run(live.dispatch(app, [_event("alice", "j4", 2, "processing")]))
    [(_, sids)] = _frames(app)
    assert sids == ["sid-a1"]
    assert "tab-a2" not in live._watchers["alice"]

    # Alice's last session leaves: what this process knew of her jobs goes with it, so the
    # next event is a full update (it may have been queued again meanwhile).
    live.forget("tab-a1")
    assert "alice" not in live._running
    live.watch("alice", "tab-a1", "header", ActiveJobsState)
    app.opened.clear()
    run(live.dispatch(app, [_event("alice", "j4", 3, "processing")]))
    assert app.opened == ["tab-a1"]


def test_a_session_of_another_process_is_not_sent_anything(app: FakeApp) -> None:
    app.event_namespace.token_to_socket["tab-a2"] = SimpleNamespace(
        sid="sid-a2", instance_id="another-process"
    )
    run(live.dispatch(app, [_event("alice", "j5", 1, "processing")]))
    run(live.dispatch(app, [_event("alice", "j5", 2, "processing")]))
    assert [sids for _, sids in _frames(app)] == [["sid-a1"]]
    assert "tab-a2" not in app.opened


def test_each_locale_gets_its_numbers(app: FakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobboard.state import locale

    monkeypatch.setattr(locale, "_by_token", {})
    locale.remember("tab-a2", "cs-CZ")
    big = _event("alice", "j6", 2, "processing", "Comparing products 12,345 of 300,617")
    big["job"]["progress_data"] |= {
        "processed": 12345,
        "total": 300617,
        "step_template": "Comparing products {done} of {total}",
        "step_values": {"done": 12345, "total": 300617},
    }
    run(live.dispatch(app, [_event("alice", "j6", 1, "processing")]))
    run(live.dispatch(app, [big]))
    counts = {sids[0]: frame["j6"]["counts"] for frame, sids in _frames(app)}
    assert counts == {
        "sid-a1": "12,345 / 300,617 rows",
        "sid-a2": "12\u00a0345 / 300\u00a0617 rows",
    }
    shown = {sids[0]: frame["j6"]["step"] for frame, sids in _frames(app)}
    assert shown == {
        "sid-a1": "Comparing products 12,345 of 300,617",
        "sid-a2": "Comparing products 12\u00a0345 of 300\u00a0617",
    }


def test_sessions_are_checked_at_most_once_per_interval(
    app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []

    async def still_signed_in(token: str, owner_id: str) -> bool:
        checks.append(token)
        return app.signed_in.get(token) == owner_id  # type: ignore[attr-defined]

    monkeypatch.setattr(session, "still_signed_in", still_signed_in)
    monkeypatch.setattr(live, "CHECK_EVERY", 3600.0)
    run(live.dispatch(app, [_event("alice", "j7", 1, "processing")]))
    for version in range(2, 6):
        run(live.dispatch(app, [_event("alice", "j7", version, "processing")]))
    assert sorted(checks) == ["tab-a1", "tab-a2"]  # once each, not once per event
    assert len(_frames(app)) == 4

    # Signed out in this process: forgotten at once, whatever the interval.
    live.forget("tab-a2")
    run(live.dispatch(app, [_event("alice", "j7", 6, "processing")]))
    assert _frames(app)[-1][1] == ["sid-a1"]

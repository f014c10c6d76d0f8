"""The progress frames' fan-out (jobboard.state.fanout): one encoded packet queued straight on
each socket, the loop given back every few sockets, and engine.io's writer waiting cheaply."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet

from jobboard.state import fanout
from tests.utils.aio import run

NAMESPACE = "/_event"


def _server_with(sids: list[str]) -> tuple[socketio.AsyncServer, dict[str, list[Any]]]:
    server = socketio.AsyncServer(async_mode="asgi")
    rooms = server.manager.rooms.setdefault(NAMESPACE, {}).setdefault(None, {})
    queued: dict[str, list[Any]] = {}
    for sid in sids:
        rooms[sid] = f"eio-{sid}"
        queued[sid] = []
        server.eio.sockets[f"eio-{sid}"] = SimpleNamespace(
            closed=False, queue=SimpleNamespace(put_nowait=queued[sid].append)
        )
    return server, queued


def test_one_packet_encoded_once_reaches_every_open_socket() -> None:
    server, queued = _server_with(["a", "b", "c"])
    server.eio.sockets["eio-b"].closed = True  # the tab closed since its token was looked up
    message = fanout.encode(server, NAMESPACE, "event", {"delta": {"x": 1}})
    sent = run(fanout.Fanout(server, NAMESPACE).send(["a", "b", "c", "gone"], message))
    assert sent == 2
    assert queued["a"] == [message] and queued["c"] == [message] and queued["b"] == []
    assert message.encode() == '42/_event,["event",{"delta":{"x":1}}]'


def test_the_loop_is_given_back_every_few_sockets() -> None:
    sids = [f"s{i}" for i in range(100)]
    server, queued = _server_with(sids)
    message = fanout.encode(server, NAMESPACE, "event", {})
    seen: list[int] = []

    async def main() -> None:
        async def other() -> None:  # another session's work, waiting for its turn
            while len(seen) < 3:
                seen.append(sum(len(q) for q in queued.values()))
                await asyncio.sleep(0)

        task = asyncio.create_task(other())
        await fanout.Fanout(server, NAMESPACE).send(sids, message)
        await task

    run(main())
    assert seen[:3] == [fanout.YIELD_EVERY, 2 * fanout.YIELD_EVERY, 3 * fanout.YIELD_EVERY]


def _socket(wait: float = 30.0, websocket: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        queue=asyncio.Queue(),
        upgraded=websocket,
        server=SimpleNamespace(ping_interval=wait, ping_timeout=0),
    )


def _pkt(text: str) -> eio_packet.Packet:
    return eio_packet.Packet(eio_packet.MESSAGE, text)


def test_poll_returns_everything_queued_and_keeps_the_closing_marker() -> None:
    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        socket = _socket()
        a, b, c = _pkt("a"), _pkt("b"), _pkt("c")
        for item in (a, b):
            socket.queue.put_nowait(item)
        first = await fanout._poll(socket)
        socket.queue.put_nowait(c)
        socket.queue.put_nowait(None)  # engine.io's "close" marker
        second = await fanout._poll(socket)
        third = await fanout._poll(socket)
        return [p.data for p in first], [p.data for p in second], third

    assert run(main()) == (["a", "b"], ["c"], [])


def test_poll_waits_for_the_next_packet() -> None:
    async def main() -> list[str]:
        socket = _socket()
        waiting = asyncio.create_task(fanout._poll(socket))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        socket.queue.put_nowait(_pkt("late"))
        return [p.data for p in await waiting]

    assert run(main()) == ["late"]


def test_a_long_poll_gives_up_after_the_ping_timeout_as_engineio_does() -> None:
    async def main() -> None:
        await fanout._poll(_socket(wait=0.02, websocket=False))

    with pytest.raises(eio_exceptions.QueueEmpty):
        run(main())


def test_a_websocket_writer_waits_until_its_reader_closes() -> None:
    async def main() -> list[Any]:
        socket = _socket(wait=0.01)
        waiting = asyncio.create_task(fanout._poll(socket))
        await asyncio.sleep(0.05)  # five ping timeouts: still waiting
        assert not waiting.done()
        socket.queue.put_nowait(None)  # what engine.io's reader does when the socket ends
        return await waiting

    assert run(main()) == []


def test_install_replaces_engineio_poll() -> None:
    from engineio import async_socket

    original = async_socket.AsyncSocket.poll
    try:
        fanout.install()
        assert async_socket.AsyncSocket.poll is fanout._poll
    finally:
        async_socket.AsyncSocket.poll = original


def test_a_websocket_accepts_through_every_layer_and_sends_frames_straight() -> None:
    from engineio.async_drivers import asgi as eio_asgi

    through_layers: list[dict[str, Any]] = []
    straight: list[dict[str, Any]] = []

    async def layered_send(message: dict[str, Any]) -> None:
        through_layers.append(message)

    async def server_send(message: dict[str, Any]) -> None:
        straight.append(message)

    async def handler(ws: Any) -> None:
        await ws.send("42/_event,[]")
        await ws.close()

    async def inner_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        environ = {"asgi.receive": receive, "asgi.send": layered_send, "asgi.scope": scope}
        await fanout._websocket_call(eio_asgi.WebSocket(handler, None), environ)

    async def main() -> None:
        await fanout.RawWebsocketSend(inner_app)({"type": "websocket"}, None, server_send)

    run(main())
    assert [m["type"] for m in through_layers] == ["websocket.accept"]
    assert [m["type"] for m in straight] == ["websocket.send", "websocket.close"]
    assert straight[0]["text"] == "42/_event,[]"

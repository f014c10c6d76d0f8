"""One message to many sockets at the least cost per socket (the live progress frames).

python-socketio's `emit(to=[...])` encodes once but then starts one task per recipient, and
each recipient's engine.io writer waits for its next packet with `asyncio.wait_for`, which on
Python 3.11 starts one more task and a timer per packet. With a team watching, those per-socket
tasks were most of the app's CPU per frame (docs/BENCHMARKS.md, "Live updates for a team").
Here the packet is encoded once and put straight on each socket's send queue, a websocket's
writer waits on its queue with nothing else, and sends its frames to the ASGI server directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from engineio import async_socket as eio_async_socket
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import asgi as eio_asgi
from socketio import packet as sio_packet

# Sockets served per turn of the event loop: every socket's writer runs in the turn after its
# packet was queued, so a frame for 200 sockets in one go held the loop for 20-30 ms.
YIELD_EVERY = 32


def encode(server: Any, namespace: str, event: str, data: Any) -> eio_packet.Packet:
    """The engine.io packet of one socket.io event, encoded once for every recipient."""
    pkt = server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, data])
    encoded = pkt.encode()
    if isinstance(encoded, list):  # binary attachments: not what a state delta carries
        raise TypeError("a frame must be text")
    message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
    message.encode()  # cached on the packet: the writers reuse it
    return message


class Fanout:
    """Queues packets on sockets, yielding to the loop every `YIELD_EVERY` sockets."""

    def __init__(self, server: Any, namespace: str) -> None:
        self._server = server
        self._namespace = namespace
        self._since_yield = 0

    async def send(self, sids: Iterable[str], message: eio_packet.Packet) -> int:
        """Queue `message` on each socket.io session's socket; returns how many took it."""
        manager, sockets = self._server.manager, self._server.eio.sockets
        sent = 0
        for sid in sids:
            socket = sockets.get(manager.eio_sid_from_sid(sid, self._namespace))
            if socket is None or socket.closed:  # gone since the token was looked up
                continue
            socket.queue.put_nowait(message)
            sent += 1
            self._since_yield += 1
            if self._since_yield >= YIELD_EVERY:
                self._since_yield = 0
                await asyncio.sleep(0)  # let these writers send before queueing more
        return sent


async def _poll(self: eio_async_socket.AsyncSocket) -> list[eio_packet.Packet]:
    """engine.io's `AsyncSocket.poll` without `wait_for`'s task and timer per packet.

    A websocket's writer waits with no timeout: its reader puts the closing marker (None)
    on the queue whenever the connection ends, a dead peer included (the reader's own wait
    times out). A long poll keeps engine.io's timeout."""
    queue = self.queue
    try:
        try:
            first = queue.get_nowait()
        except asyncio.QueueEmpty:
            if self.upgraded:  # websocket
                first = await queue.get()
            else:
                async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                    first = await queue.get()
        queue.task_done()
    except (TimeoutError, asyncio.CancelledError):
        raise eio_exceptions.QueueEmpty() from None
    if first is None:
        return []
    packets = [first]
    while queue.qsize():
        pkt = queue.get_nowait()
        queue.task_done()
        if pkt is None:  # closing: leave the marker for the next poll
            queue.put_nowait(None)
            break
        packets.append(pkt)
    return packets


# The ASGI server's own `send` for each websocket, recorded by `RawWebsocketSend` (outermost).
RAW_SEND = "jobboard.websocket_send"


class RawWebsocketSend:
    """Outermost ASGI layer: remembers the server's `send` of each websocket in its scope.

    Between it and engine.io sit Starlette's exception wrappers and Reflex's subprotocol
    header wrapper, each a coroutine call per message that only looks at "http.*" messages
    or the websocket's accept. Frames skip them (`_websocket_call`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


async def _websocket_call(self: eio_asgi.WebSocket, environ: dict[str, Any]) -> str:
    """engine.io's ASGI `WebSocket.__call__`: the accept goes through every layer (Reflex
    adds the subprotocol to it), the frames after it straight to the server."""
    self.asgi_receive = environ["asgi.receive"]
    self.asgi_send = environ["asgi.send"]
    await self.asgi_send({"type": "websocket.accept"})
    self.asgi_send = environ["asgi.scope"].get(RAW_SEND, self.asgi_send)
    await self.handler(self)
    return ""


def install() -> None:
    """Use the cheaper wait and send in every engine.io socket of this process (the app's
    outermost layer must be `RawWebsocketSend` for the latter)."""
    eio_async_socket.AsyncSocket.poll = _poll  # type: ignore[method-assign]
    eio_asgi.WebSocket.__call__ = _websocket_call  # type: ignore[method-assign]

"""ASGI guard for the upload endpoints: never take in more than the upload limit.

Reflex's `/_upload` parses the whole multipart body (spooling it to disk) before any handler
sees it. This middleware answers 413 before the body is read when `Content-Length` says it is
too big, and for a body without one (chunked) counts bytes as they stream and stops reading
as soon as they pass the limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jobboard.core import uploads

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/_upload"
# Room for the multipart boundaries, part headers and Reflex's small form fields.
MULTIPART_OVERHEAD = 64 * 1024


def allowed_body_bytes() -> int:
    return uploads.max_bytes() + MULTIPART_OVERHEAD


def too_large_detail() -> str:
    return f"The upload is larger than the {uploads.limit_text()} limit."


class UploadLimitMiddleware:
    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = (UPLOAD_PATH,)) -> None:
        self.app = app
        self.paths = frozenset(path.rstrip("/") for path in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") not in self.paths:
            await self.app(scope, receive, send)
            return
        allowed = allowed_body_bytes()
        length = _content_length(scope)
        if length == -1:
            await _send_json(send, 400, "The request has an invalid Content-Length.")
            return
        if length is not None and length > allowed:
            await _send_json(send, 413, too_large_detail())
            return

        received = 0
        refused = False  # past the limit: the app reads no more
        answered = False  # and our 413 is the response
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, refused, answered
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    refused = True
                    if not response_started:
                        answered = True
                        await _send_json(send, 413, too_large_detail())
                    # The app sees a client that went away and stops parsing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if answered:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    """The declared body size, None when absent, -1 when malformed."""
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Reflex's /_upload endpoint refuses an over-limit body before reading it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from reflex.utils.format import format_event_handler

from jobboard.core import uploads
from jobboard.state.upload import UploadState

CHUNK = 64 * 1024


@dataclass
class Exchange:
    status: int
    body: bytes
    sent: int  # body bytes the client had pushed when the response arrived
    total: int  # body bytes the client would have sent
    send_errors: list[OSError] = field(default_factory=list)


def post_raw(
    app_url: str,
    headers: dict[str, str],
    body: Iterator[bytes],
    total: int,
    path: str = "/_upload",
) -> Exchange:
    """Send a request from one thread while reading the answer in this one."""
    url = urlsplit(app_url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    sent = 0
    answered = threading.Event()
    errors: list[OSError] = []

    def pump() -> None:
        nonlocal sent
        try:
            for piece in body:
                if answered.is_set():
                    return
                sock.sendall(piece)
                sent += len(piece)
        except OSError as exc:  # the server closed the connection after answering
            errors.append(exc)

    sender = threading.Thread(target=pump, daemon=True)
    sender.start()
    raw = b""
    try:
        while b"\r\n\r\n" not in raw:
            raw += sock.recv(65536) or b""
        answered.set()
        sent_at_answer = sent
        head_bytes, _, rest = raw.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        while len(rest) < length:
            more = sock.recv(65536)
            if not more:
                break
            rest += more
    finally:
        answered.set()
        sock.close()
        sender.join(10)
    return Exchange(int(lines[0].split()[1]), rest, sent_at_answer, total, errors)


def upload_headers(**extra: str) -> dict[str, str]:
    return {
        "Content-Type": "multipart/form-data; boundary=xyz",
        "reflex-client-token": "upload-limit-test",
        "reflex-event-handler": format_event_handler(UploadState.submit),
        **extra,
    }


def multipart_stream(total: int, field: str = "files") -> Iterator[bytes]:
    yield (
        f'--xyz\r\nContent-Disposition: form-data; name="{field}"; filename="huge.csv"\r\n'.encode()
        + b"Content-Type: text/csv\r\n\r\n"
    )
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def assert_refused_with_the_limit(exchange: Exchange) -> None:
    assert exchange.status == 413
    detail = json.loads(exchange.body)["detail"]
    assert f"{uploads.limit_text()} limit" in detail
    assert exchange.sent < exchange.total, "the answer must come before the body is all sent"


def test_a_large_content_length_is_refused_before_the_body_is_read(app_url: str) -> None:
    total = max(300 * 1024 * 1024, uploads.max_bytes() * 4)
    exchange = post_raw(
        app_url,
        upload_headers(**{"Content-Length": str(total)}),
        multipart_stream(total),
        total,
    )
    assert_refused_with_the_limit(exchange)
    # Nothing of the body was read: what got out is only what the sockets' buffers hold.
    assert exchange.sent < uploads.max_bytes()


def test_a_chunked_body_is_cut_off_past_the_limit(app_url: str) -> None:
    total = uploads.max_bytes() * 4
    exchange = post_raw(
        app_url,
        upload_headers(**{"Transfer-Encoding": "chunked"}),
        chunked(multipart_stream(total)),
        total,
    )
    assert_refused_with_the_limit(exchange)


@pytest.mark.parametrize("transfer", ["length", "chunked"])
def test_a_body_within_the_limit_reaches_reflex(app_url: str, transfer: str) -> None:
    # An unknown handler makes Reflex answer without running anything: the guard let it by.
    body = b"--xyz--\r\n"
    headers = upload_headers(**{"reflex-event-handler": "no.such.handler"})
    if transfer == "length":
        headers["Content-Length"] = str(len(body))
        pieces: Iterator[bytes] = iter([body])
    else:
        headers["Transfer-Encoding"] = "chunked"
        pieces = chunked(iter([body]))
    exchange = post_raw(app_url, headers, pieces, len(body))
    assert exchange.status == 400
    assert b"Unknown upload event handler" in exchange.body

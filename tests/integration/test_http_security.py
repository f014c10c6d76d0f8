"""The HTTP edge, tried as another site would: CORS, the websocket's Origin, security headers."""

from __future__ import annotations

import base64
import os
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest

EVIL = "http://evil.example"
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def own_origins(app_url: str) -> list[str]:
    port = urlsplit(app_url).port
    return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]


@pytest.fixture(scope="module")
def client(app_url: str) -> httpx.Client:
    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=True) as c:
        yield c


def assert_security_headers(resp: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, (resp.request.url, name, resp.headers)
    csp = resp.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], csp


def test_security_headers_on_every_kind_of_response(client: httpx.Client, app_url: str) -> None:
    page = client.get("/tasks")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert_security_headers(page)
    for hop in page.history:  # the redirect to the trailing slash
        assert_security_headers(hop)
    asset = re.search(r'(/assets/[\w.-]+\.js)"', page.text)
    assert asset, "no script asset in the page"
    for resp in (
        page,
        client.get("/"),
        client.get("/upload"),
        client.get(asset[1]),
        client.get("/favicon.ico"),
        client.get("/ping"),
        client.get("/api/v1/jobs"),
        client.get("/api/v1/jobs/no-such-job"),
        client.get("/api/openapi.json"),
        client.get("/no-such-page-at-all"),
        client.post("/_upload", content=b""),
    ):
        assert resp.status_code < 500, (resp.request.url, resp.status_code)
        assert_security_headers(resp)
    # Refused before the body is read (the upload limit's own answer).
    status, head = raw_request(app_url, f"POST /_upload HTTP/1.1\r\nContent-Length: {10**12}")
    assert " 413 " in status, status
    assert_security_headers(httpx.Response(413, headers=head))


def test_the_csp_allows_the_pages_inline_scripts_by_hash(client: httpx.Client) -> None:
    import hashlib

    page = client.get("/tasks")
    csp = page.headers["content-security-policy"]
    inline = [
        m[2]
        for m in re.finditer(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        if "src=" not in m[1] and m[2]
    ]
    assert inline, "the compiled page has inline scripts"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/ping", "/_upload"])
def test_cors_refuses_a_foreign_origin(client: httpx.Client, path: str) -> None:
    preflight = client.options(
        path,
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    simple = client.get(path, headers={"Origin": EVIL})
    for resp in (preflight, simple):
        assert "access-control-allow-origin" not in resp.headers, resp.headers
        assert "access-control-allow-credentials" not in resp.headers, resp.headers
    assert_security_headers(preflight)  # the edge's headers reach CORS' own answers too


@pytest.mark.parametrize("which", [0, 1])
def test_cors_allows_the_apps_own_origin(client: httpx.Client, app_url: str, which: int) -> None:
    origin = own_origins(app_url)[which]
    preflight = client.options(
        "/api/v1/jobs",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert_security_headers(preflight)
    simple = client.get("/api/v1/jobs", headers={"Origin": origin})
    assert simple.status_code == 401  # not signed in; the browser may still read the answer
    assert simple.headers["access-control-allow-origin"] == origin


def raw_exchange(app_url: str, head: str, more: bool = False) -> tuple[str, list[str], bytes]:
    """Send a request head as is (no body); the status line, header lines and what follows."""
    url = urlsplit(app_url)
    request_line, _, headers = head.partition("\r\n")
    request = f"{request_line}\r\nHost: {url.netloc}\r\n{headers}\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=15) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        answer, _, rest = data.partition(b"\r\n\r\n")
        lines = answer.decode("latin-1").split("\r\n")
        if more and " 101 " in lines[0] and len(rest) < 2:
            rest += sock.recv(4096)
        return lines[0], lines[1:], rest


def raw_request(app_url: str, head: str) -> tuple[str, list[tuple[str, str]]]:
    status, lines, _ = raw_exchange(app_url, head)
    return status, [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines)]


def websocket_handshake(app_url: str, origin: str) -> tuple[str, bytes]:
    """A raw websocket upgrade to Reflex's `/_event`; the status line and what follows it."""
    key = base64.b64encode(os.urandom(16)).decode()
    status, _, rest = raw_exchange(
        app_url,
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}",
        more=True,  # after a 101: engine.io's open packet, as the first frame
    )
    return status, rest


def test_the_websocket_refuses_a_foreign_origin(app_url: str) -> None:
    status, _ = websocket_handshake(app_url, EVIL)
    assert " 101 " not in status, status
    assert re.match(r"HTTP/1\.1 4\d\d ", status), status


@pytest.mark.parametrize("which", [0, 1])
def test_the_websocket_accepts_the_apps_own_origin(app_url: str, which: int) -> None:
    status, frames = websocket_handshake(app_url, own_origins(app_url)[which])
    assert " 101 " in status, status
    # A text frame carrying engine.io's "open" packet: b'0{"sid": ...}'.
    assert frames[:1] == b"\x81", frames[:40]
    start = {126: 4, 127: 10}.get(frames[1] & 0x7F, 2)
    assert frames[start : start + 2] == b"0{", frames[:40]

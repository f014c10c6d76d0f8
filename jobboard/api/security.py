"""The HTTP edge: security headers on every response, no CORS credentials for foreign origins.

A pure ASGI middleware (like `limits.py`) around the whole backend Reflex builds — its own
routes, the compiled frontend in prod, the FastAPI app of `create_api()` and the CORS
middleware Reflex puts outermost (`jobboard.jobboard.JobboardApp` wraps it), so CORS preflight
answers get the headers too. Headers a response already sets are kept.

CORS itself is Reflex's (`cors_allowed_origins` in rxconfig.py: the app's own origin and
JOBBOARD_ALLOWED_ORIGINS). Starlette's CORS middleware sends
`Access-Control-Allow-Credentials: true` even on the preflight it refuses; an answer without
`Access-Control-Allow-Origin` loses that header here, so a foreign origin sees no CORS grant.

The Content-Security-Policy allows what Reflex's build needs and nothing else:
- scripts from the app itself, plus the inline scripts of the compiled pages by their SHA-256
  hashes (React Router's hydration data, the colour-mode and scroll-restoration snippets),
  read once from `.web/build/client/**/*.html`; `'unsafe-eval'` because Reflex runs
  `rx.call_script` (the notification bridge) through `eval`;
- inline styles (Emotion and Radix set them at run time), images from the app, `data:`/`blob:`;
- connections to the app's allowed origins and their websockets (`/_event`);
- no framing (`frame-ancestors 'none'`), no plugins, forms and `<base>` to the app only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from jobboard.api.limits import ASGIApp, Message, Receive, Scope, Send
from jobboard.core.settings import ROOT, get_settings

log = logging.getLogger(__name__)

_CREDENTIALS = b"access-control-allow-credentials"
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)


def build_dir() -> Path:
    web = Path(os.environ.get("REFLEX_WEB_WORKDIR", ".web"))
    return (web if web.is_absolute() else ROOT / web) / "build" / "client"


def inline_script_hashes(pages: Iterable[Path]) -> list[str]:
    """CSP source expressions (`'sha256-…'`) for every inline script of these HTML files."""
    hashes: set[str] = set()
    for page in pages:
        for match in _INLINE_SCRIPT.finditer(page.read_text(encoding="utf-8", errors="replace")):
            if re.search(r"\bsrc\s*=", match["attrs"], re.I) or not match["body"]:
                continue
            digest = hashlib.sha256(match["body"].encode()).digest()
            hashes.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(hashes)


def _connect_sources() -> list[str]:
    """The allowed origins and their websocket forms (the page may talk to its backend by
    `localhost` while it was opened as `127.0.0.1`, or the other way round)."""
    out: list[str] = []
    for origin in get_settings().allowed_origins:
        out += [origin, re.sub(r"^http", "ws", origin)]
    return out


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    pages = sorted(build_dir().rglob("*.html"))
    if pages:
        scripts = ["'self'", *inline_script_hashes(pages), "'unsafe-eval'"]
    else:  # no compiled frontend here (dev mode: Vite serves the pages, not this app)
        log.warning("no compiled frontend in %s: scripts may run inline", build_dir())
        scripts = ["'self'", "'unsafe-inline'", "'unsafe-eval'"]
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *_connect_sources()],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", content_security_policy().encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"access-control-allow-origin" not in present:
                    headers = [h for h in headers if h[0].lower() != _CREDENTIALS]
                headers += [(k, v) for k, v in security_headers() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

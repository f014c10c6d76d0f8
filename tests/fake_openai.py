"""A small OpenAI-compatible chat-completions server for tests (stdlib only, in a thread).

`POST /v1/chat/completions` streams the answer word by word as `chat.completion.chunk`
events, then (when asked with `stream_options.include_usage`) a usage chunk, then
`data: [DONE]`. Tests script failures (`fail_next`), slow streams (`chunk_delay`,
`first_byte_delay`) and read what was sent (`requests`).

    with FakeOpenAI(api_key="sk-test") as server:
        os.environ["JOBBOARD_AI_BASE_URL"] = server.base_url
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]


@dataclass
class ScriptedFailure:
    status: int
    message: str
    retry_after: str | None = None
    code: str | None = None


@dataclass
class FakeOpenAI:
    api_key: str | None = None  # when set, other keys get a 401 like OpenAI's
    models: Iterable[str] | None = None  # when set, other models get a 404 like OpenAI's
    chunk_delay: float = 0.0  # seconds between chunks (a slow stream)
    first_byte_delay: float = 0.0  # seconds before the response starts
    send_usage: bool = True  # False: a server that never reports usage
    reply: Callable[[dict[str, Any]], str] | None = None  # request body -> answer text
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._failures: deque[ScriptedFailure] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        retry_after: float | str | None = None,
        message: str | None = None,
        code: str | None = None,
    ) -> None:
        """Answer the next `count` requests with this error instead of a completion."""
        text = message or {
            401: "Incorrect API key provided.",
            429: "Rate limit reached for requests.",
            500: "The server had an error while processing your request.",
            503: "The engine is currently overloaded, please try again later.",
        }.get(status, f"error {status}")
        with self._lock:
            for _ in range(count):
                self._failures.append(
                    ScriptedFailure(
                        status, text, None if retry_after is None else str(retry_after), code
                    )
                )

    def reset(self) -> None:
        """Forget recorded requests and scripted failures; back to default behaviour."""
        with self._lock:
            self._failures.clear()
            self.requests.clear()
        self.chunk_delay = self.first_byte_delay = 0.0
        self.send_usage = True
        self.reply = None

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------------------

    def _next_failure(self) -> ScriptedFailure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def answer_for(self, body: dict[str, Any]) -> str:
        if self.reply is not None:
            return self.reply(body)
        user = next(
            (m.get("content", "") for m in reversed(body.get("messages", []))
             if m.get("role") == "user"),
            "",
        )  # fmt: skip
        title = re.search(r"^Title: (.+)$", str(user), re.MULTILINE)
        if title:
            return (
                f"{title.group(1)} is a practical choice for everyday use. This text was "
                "written by the fake AI provider of the test suite, word by word."
            )
        return "Hello from the fake AI provider."

    def pause(self, seconds: float) -> None:
        """Sleep in a handler (e.g. from `reply`); ends early when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)


def _words(text: str) -> list[str]:
    """Chunks as OpenAI sends them: "Hello", " world", "."."""
    return re.findall(r"\s*\S+", text)


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        # The client went away (a cancel, a timeout, a closed keep-alive): nothing to do.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None, headers: dict[str, str]) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = {"message": message, "type": kind, "param": None, "code": code}
        self._send_json(status, {"error": error}, headers)

    def do_POST(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        with fake._lock:
            fake.requests.append(
                RecordedRequest(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
        if not self.path.rstrip("/").endswith("/v1/chat/completions"):
            self._send_json(404, {"detail": "Not Found"})
            return
        failure = fake._next_failure()
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self._error(failure.status, failure.message, failure.code, headers)
            return
        if fake.api_key is not None and (
            self.headers.get("Authorization") != f"Bearer {fake.api_key}"
        ):
            self._error(401, "Incorrect API key provided.", "invalid_api_key", {})
            return
        model = str(body.get("model", ""))
        if fake.models is not None and model not in set(fake.models):
            self._error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "model_not_found",
                {},
            )
            return
        fake.pause(fake.first_byte_delay)
        try:
            if body.get("stream"):
                self._stream(fake, body, model)
            else:
                self._whole(fake, body, model)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a cancel, a timeout): nothing more to send

    def _whole(self, fake: FakeOpenAI, body: dict[str, Any], model: str) -> None:
        text = fake.answer_for(body)
        prompt, completion = _prompt_tokens(body), len(_words(text))
        self._send_json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            },
        )

    def _chunk(self, data: str) -> None:
        payload = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _stream(self, fake: FakeOpenAI, body: dict[str, Any], model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        def event(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = base | {"choices": choices} | extra
            if with_usage and "usage" not in extra:
                chunk["usage"] = None
            self._chunk(f"data: {json.dumps(chunk)}\n\n")

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

        words = _words(fake.answer_for(body))
        event([choice({"role": "assistant", "content": "", "refusal": None})])
        for word in words:
            if fake._stopping.is_set():
                return
            fake.pause(fake.chunk_delay)
            event([choice({"content": word})])
        event([choice({}, "stop")])
        if with_usage and fake.send_usage:
            prompt = _prompt_tokens(body)
            usage = {
                "prompt_tokens": prompt,
                "completion_tokens": len(words),
                "total_tokens": prompt + len(words),
            }
            event([], usage=usage)
        self._chunk("data: [DONE]\n\n")
        self._chunk("")  # the last chunk: b"0\r\n\r\n"

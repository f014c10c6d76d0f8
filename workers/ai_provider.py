"""Client for an OpenAI-compatible chat-completions API, streamed as server-sent events.

Only `POST {base}/chat/completions` with `"stream": true` is used, so text arrives while it
is written. Failures that may pass (connection errors, read timeouts, 408, 429, 5xx) are
retried with backoff, honouring Retry-After; the others fail at once. Every final failure
is a `ProviderError` whose message is meant for the user.

Token usage is what the provider reports (`stream_options.include_usage`); when it reports
none, usage is unknown (None) — never estimated.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from jobboard.core.ai import NOT_CONFIGURED_MESSAGE, ProviderConfig, provider_config

__all__ = [
    "NOT_CONFIGURED_MESSAGE",
    "ChatClient",
    "Completion",
    "ProviderConfig",
    "ProviderError",
    "RetryNotice",
    "SSEEvent",
    "StreamEnd",
    "Usage",
    "iter_sse",
    "provider_config",
    "sum_usage",
]

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0  # between two chunks of the stream
MAX_ATTEMPTS = 4
BACKOFF = 1.0  # seconds before the second attempt; doubles with each further one
MAX_RETRY_WAIT = 30.0  # cap on Retry-After and on the backoff


class ProviderError(Exception):
    """A final failure of a request, with a message meant for the user.

    `fatal` means the setup itself is wrong (API key, model, URL, quota): every further
    request would fail the same way. `transient` means the cause may pass (timeouts, rate
    limits, provider errors that outlasted the attempts): a later retry may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fatal: bool = False,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.fatal = fatal
        self.transient = transient and not fatal


class _Retryable(Exception):
    """A failure that may pass: retried until the attempts run out."""

    def __init__(
        self, message: str, short: str, *, status: int | None = None, wait: float | None = None
    ) -> None:
        super().__init__(message)
        self.short = short  # for progress text: "busy (429)"
        self.status = status
        self.wait = wait  # what Retry-After asked for, in seconds


@dataclass(frozen=True)
class Usage:
    """Tokens as the provider counted them; None where it did not say."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> Usage:
        if not isinstance(data, dict):
            return cls()

        def count(key: str) -> int | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                return None
            return value

        prompt, completion, total = (
            count("prompt_tokens"),
            count("completion_tokens"),
            count("total_tokens"),
        )
        if total is None and prompt is not None and completion is not None:
            total = prompt + completion  # the provider's own numbers, added up
        return cls(prompt, completion, total)

    @property
    def known(self) -> bool:
        return any(v is not None for v in (self.prompt_tokens, self.completion_tokens))

    def __add__(self, other: Usage) -> Usage:
        def add(a: int | None, b: int | None) -> int | None:
            return None if a is None or b is None else a + b

        return Usage(
            add(self.prompt_tokens, other.prompt_tokens),
            add(self.completion_tokens, other.completion_tokens),
            add(self.total_tokens, other.total_tokens),
        )

    def as_dict(self) -> dict[str, int | None]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


def sum_usage(items: Iterable[Usage]) -> Usage:
    """The total over several requests; a member is None when any request left it unknown."""
    total = Usage(0, 0, 0)
    for usage in items:
        total += usage
    return total


@dataclass(frozen=True)
class StreamEnd:
    """The last item of a stream: what the provider said about the whole answer."""

    usage: Usage
    finish_reason: str | None
    model: str | None


@dataclass(frozen=True)
class RetryNotice:
    """Given to `on_retry` before waiting for the next attempt."""

    attempt: int  # the attempt that failed (1-based)
    max_attempts: int
    delay: float  # seconds until the next attempt
    reason: str  # short: "busy (429)", "error 503", "no answer for 60 s"


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: str | None
    model: str | None


# -- server-sent events ------------------------------------------------------------------


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None


def iter_sse(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Events from the lines of a text/event-stream (line ends already removed).

    Follows the WHATWG rules: `field: value` (one space after the colon is dropped),
    several `data` lines join with newlines, a blank line ends an event, `:` starts a
    comment, and an event cut off by the end of the stream is dropped.
    """
    data: list[str] = []
    event = ""
    last_id: str | None = None
    first = True
    for raw in lines:
        line = raw.rstrip("\r\n")
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        if not line:
            if data:
                yield SSEEvent("\n".join(data), event or "message", last_id)
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
        # "retry" and unknown fields: nothing to do for a one-shot request


# -- errors ------------------------------------------------------------------------------


def _clean(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_detail(resp: httpx.Response) -> tuple[str | None, str | None, bool]:
    """(message, code, came_as_json) from an error response body."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("code") or error.get("type")
            message = error.get("message")
            return (
                _clean(str(message)) if message else None,
                str(code) if code else None,
                True,
            )
        for key in ("error", "message", "detail"):
            if isinstance(body.get(key), str) and body[key].strip():
                return _clean(body[key]), None, True
        return None, None, True
    if "html" in resp.headers.get("content-type", ""):
        return None, None, False
    text = resp.text.strip()
    return (_clean(text) if text else None), None, False


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asked us to wait (Retry-After: seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# -- the client --------------------------------------------------------------------------


class ChatClient:
    """One provider, one connection pool; use as a context manager."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF,
        max_wait: float = MAX_RETRY_WAIT,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.config = config
        self.url = f"{config.base_url.rstrip('/')}/chat/completions"
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        headers = {"Accept": "text/event-stream", "User-Agent": "jobboard"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        timeout = timeout or httpx.Timeout(
            READ_TIMEOUT, connect=CONNECT_TIMEOUT, write=30.0, pool=30.0
        )
        self._connect_timeout = timeout.connect or 0.0
        self._read_timeout = timeout.read or 0.0
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self._send_stream_options = True

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delay(self, attempt: int, wait: float | None) -> float:
        if wait is not None:
            return min(wait, self.max_wait)
        delay = self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        return min(delay, self.max_wait)

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        on_retry: Callable[[RetryNotice], Any] | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> Iterator[str | StreamEnd]:
        """Text deltas as they arrive, then one `StreamEnd`; raises `ProviderError`.

        A failed attempt is retried only while no text has been yielded: once the answer
        has started, a break is final (retrying would repeat what the caller already has).
        """
        sleep = sleep or self._sleep
        attempt = 0
        while True:
            attempt += 1
            body: dict[str, Any] = {"model": self.config.model, "messages": messages}
            body["stream"] = True
            if self._send_stream_options:
                body["stream_options"] = {"include_usage": True}
            if max_tokens is not None:
                body["max_tokens"] = max_tokens
            started = False
            try:
                for item in self._attempt(body):
                    if isinstance(item, str):
                        started = True
                    yield item
                return
            except _Retryable as exc:
                if started:
                    raise ProviderError(
                        f"the AI provider's answer broke off: {exc}",
                        status=exc.status,
                        transient=True,
                    ) from None
                if attempt >= self.max_attempts:
                    raise ProviderError(
                        f"{exc} (gave up after {attempt} attempts)",
                        status=exc.status,
                        transient=True,
                    ) from None
                delay = self._delay(attempt, exc.wait)
                if on_retry is not None:
                    on_retry(RetryNotice(attempt, self.max_attempts, delay, exc.short))
                sleep(delay)
            except ProviderError as exc:
                # Some older servers refuse the usage option: ask once more without it.
                if (
                    exc.status == 400
                    and self._send_stream_options
                    and "stream_options" in str(exc)
                    and not started
                ):
                    self._send_stream_options = False
                    attempt -= 1
                    continue
                raise

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        on_text: Callable[[str], Any] | None = None,
        **kwargs: Any,
    ) -> Completion:
        """The whole answer (streamed underneath; `on_text` sees each delta)."""
        parts: list[str] = []
        end = StreamEnd(Usage(), None, None)
        for item in self.stream_chat(messages, **kwargs):
            if isinstance(item, StreamEnd):
                end = item
            else:
                parts.append(item)
                if on_text is not None:
                    on_text(item)
        return Completion("".join(parts), end.usage, end.finish_reason, end.model)

    def _attempt(self, body: dict[str, Any]) -> Iterator[str | StreamEnd]:
        base = self.config.base_url
        try:
            with self._http.stream("POST", self.url, json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise self._status_error(resp)
                if "json" in resp.headers.get("content-type", ""):
                    resp.read()  # a server that ignored "stream": one complete answer
                    yield from self._whole(resp)
                else:
                    yield from self._parse_stream(resp.iter_lines())
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise _Retryable(
                    f"could not connect to the AI provider at {base} within "
                    f"{self._connect_timeout:g} s",
                    "connection timed out",
                ) from None
            if isinstance(exc, httpx.ReadTimeout):
                raise _Retryable(
                    f"the AI provider sent nothing for {self._read_timeout:g} s",
                    f"no answer for {self._read_timeout:g} s",
                ) from None
            raise _Retryable(f"the AI provider timed out ({exc})", "timed out") from None
        except httpx.UnsupportedProtocol:
            raise ProviderError(
                f"JOBBOARD_AI_BASE_URL ({base}) must start with http:// or https://", fatal=True
            ) from None
        except httpx.ConnectError as exc:
            raise _Retryable(
                f"could not connect to the AI provider at {base}: {exc or 'connection failed'}",
                "connection failed",
            ) from None
        except httpx.TransportError as exc:
            raise _Retryable(
                f"the connection to the AI provider failed: {exc or type(exc).__name__}",
                "connection dropped",
            ) from None
        except httpx.InvalidURL:
            raise ProviderError(
                f"JOBBOARD_AI_BASE_URL ({base}) is not a valid URL", fatal=True
            ) from None

    def _status_error(self, resp: httpx.Response) -> Exception:
        status = resp.status_code
        detail, code, as_json = _error_detail(resp)
        suffix = f": {detail}" if detail else ""
        if status == 401:
            return ProviderError(
                f"the AI provider rejected the API key (401){suffix}", status=401, fatal=True
            )
        if status == 403:
            return ProviderError(
                f"the AI provider refused access (403){suffix}", status=403, fatal=True
            )
        if status == 404:
            if as_json and ("model" in (detail or "").lower() or "model" in (code or "")):
                return ProviderError(
                    f"model '{self.config.model}' not found (404){suffix}", status=404, fatal=True
                )
            return ProviderError(
                f"the AI provider has no chat completions endpoint at {self.url} (404){suffix}; "
                "check JOBBOARD_AI_BASE_URL (it usually ends in /v1)",
                status=404,
                fatal=True,
            )
        if status == 429 and code == "insufficient_quota":
            return ProviderError(
                f"the AI provider account has no quota left (429){suffix}", status=429, fatal=True
            )
        wait = _retry_after(resp.headers)
        if status == 429:
            return _Retryable(
                f"the AI provider is rate-limiting requests (429){suffix}",
                "busy (429)",
                status=429,
                wait=wait,
            )
        if status == 408 or status >= 500:
            return _Retryable(
                f"the AI provider failed ({status}){suffix}",
                f"error {status}",
                status=status,
                wait=wait,
            )
        if status == 400:
            return ProviderError(f"the AI provider rejected the request (400){suffix}", status=400)
        return ProviderError(f"the AI provider answered {status}{suffix}", status=status)

    def _whole(self, resp: httpx.Response) -> Iterator[str | StreamEnd]:
        try:
            data = resp.json()
        except ValueError:
            raise ProviderError("the AI provider's answer is not valid JSON") from None
        choice = (data.get("choices") or [{}])[0] if isinstance(data, dict) else {}
        message = choice.get("message") or {}
        text = message.get("content")
        if isinstance(text, str) and text:
            yield text
        yield StreamEnd(
            Usage.from_json(data.get("usage")), choice.get("finish_reason"), data.get("model")
        )

    def _parse_stream(self, lines: Iterable[str]) -> Iterator[str | StreamEnd]:
        usage = Usage()
        finish: str | None = None
        model: str | None = None
        done = False
        for event in iter_sse(lines):
            if event.data.strip() == "[DONE]":
                done = True
                break
            try:
                chunk = json.loads(event.data)
            except ValueError:
                raise ProviderError(
                    f"the AI provider sent a chunk that is not JSON: {_clean(event.data, 80)!r}"
                ) from None
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error") or event.event == "error":
                error = chunk.get("error")
                message = error.get("message") if isinstance(error, dict) else error
                raise ProviderError(
                    f"the AI provider reported an error: {_clean(str(message or chunk))}"
                )
            if chunk.get("usage"):
                usage = Usage.from_json(chunk["usage"])
            model = chunk.get("model") or model
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                text = (choice.get("delta") or {}).get("content")
                if isinstance(text, str) and text:
                    yield text
                finish = choice.get("finish_reason") or finish
        if not done and finish is None:
            raise _Retryable(
                "the AI provider's stream ended before the answer was complete", "stream cut off"
            )
        yield StreamEnd(usage, finish, model)

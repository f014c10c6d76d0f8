"""The AI provider client against a local fake server: streaming, usage, retries, errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fake_openai import FakeOpenAI
from workers.ai_describe import build_messages, plain_text
from workers.ai_provider import (
    NOT_CONFIGURED_MESSAGE,
    ChatClient,
    ProviderConfig,
    ProviderError,
    RetryNotice,
    SSEEvent,
    StreamEnd,
    Usage,
    iter_sse,
    provider_config,
    sum_usage,
)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-test") as server:
        yield server


class Sleeps(list[float]):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(server: FakeOpenAI, *, key: str = "sk-test", model: str = "gpt-4o-mini",
               **kwargs: Any) -> ChatClient:  # fmt: skip
    return ChatClient(ProviderConfig(server.base_url, key, model), **kwargs)


MESSAGES = [{"role": "user", "content": "Title: Blue Mug\nWrite the description."}]


# -- server-sent events ------------------------------------------------------------------


def test_sse_parser_follows_the_event_stream_rules() -> None:
    lines = [
        "\ufeff: a comment, ignored",
        'data: {"a": 1}',
        "",
        "event: error",
        "id: 7",
        "data:first line",  # no space after the colon
        "data:  second line",  # only the first space is dropped
        "",
        "",  # blank lines without data dispatch nothing
        "retry: 1000",
        "data: [DONE]",
        "",
        "data: cut off by the end of the stream",
    ]
    assert list(iter_sse(lines)) == [
        SSEEvent('{"a": 1}'),
        SSEEvent("first line\n second line", "error", "7"),
        SSEEvent("[DONE]", "message", "7"),
    ]


def test_sse_parser_reads_crlf_framing_through_httpx() -> None:
    body = (
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\r\n\r\n'
        'data: {"choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]}\r\n'
        "\r\n"
        "data: [DONE]\r\n\r\n"
    )
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body.encode()
        )
    )
    client = ChatClient(ProviderConfig("http://fake/v1", "", "m"), transport=transport)
    items = list(client.stream_chat(MESSAGES))
    assert items[:2] == ["Hi", " there"]
    assert items[2] == StreamEnd(Usage(), "stop", None)  # no usage sent: unknown, not guessed


# -- streaming against the fake server ---------------------------------------------------


def test_streams_text_word_by_word_then_usage(fake_openai: FakeOpenAI) -> None:
    with client_for(fake_openai) as client:
        items = list(client.stream_chat(MESSAGES))
    *deltas, end = items
    assert len(deltas) > 5 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == fake_openai.answer_for({"messages": MESSAGES})
    assert "".join(deltas).startswith("Blue Mug is a practical choice")
    assert isinstance(end, StreamEnd) and end.finish_reason == "stop"
    assert end.usage.completion_tokens == len(deltas)
    assert end.usage.total_tokens == end.usage.prompt_tokens + len(deltas)
    (request,) = fake_openai.requests
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == MESSAGES


def test_no_usage_from_the_server_means_unknown_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.send_usage = False
    with client_for(fake_openai) as client:
        result = client.complete(MESSAGES)
    assert result.text.startswith("Blue Mug")
    assert result.usage == Usage(None, None, None)
    assert not result.usage.known


def test_usage_is_summed_and_unknown_stays_unknown(fake_openai: FakeOpenAI) -> None:
    with client_for(fake_openai) as client:
        first = client.complete(MESSAGES).usage
        second = client.complete(MESSAGES).usage
    total = sum_usage([first, second])
    assert total.completion_tokens == first.completion_tokens + second.completion_tokens
    assert total.total_tokens == first.total_tokens + second.total_tokens
    assert total.as_dict() == {
        "prompt_tokens": first.prompt_tokens * 2,
        "completion_tokens": first.completion_tokens * 2,
        "total_tokens": first.total_tokens * 2,
    }
    assert sum_usage([first, Usage()]).as_dict() == {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
    }
    assert Usage.from_json({"prompt_tokens": 3, "completion_tokens": 4}).total_tokens == 7


def test_no_key_sends_no_authorization_header(fake_openai: FakeOpenAI) -> None:
    fake_openai.api_key = None  # a local server (Ollama, llama.cpp) needs none
    with client_for(fake_openai, key="") as client:
        assert client.complete(MESSAGES).text
    assert "authorization" not in fake_openai.requests[0].headers


# -- retries -----------------------------------------------------------------------------


def test_429_is_retried_honouring_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, 429, retry_after=0)
    fake_openai.fail_next(1, 429, retry_after=2)
    fake_openai.fail_next(1, 503, retry_after=120)  # capped
    sleeps, notices = Sleeps(), []
    with client_for(fake_openai, sleep=sleeps) as client:
        result = client.complete(MESSAGES, on_retry=notices.append)
    assert result.text.startswith("Blue Mug")
    assert sleeps == [0.0, 2.0, 30.0]
    assert len(fake_openai.requests) == 4
    assert notices == [
        RetryNotice(1, 4, 0.0, "busy (429)"),
        RetryNotice(2, 4, 2.0, "busy (429)"),
        RetryNotice(3, 4, 30.0, "error 503"),
    ]


def test_retry_after_really_waits(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, 429, retry_after=1)
    with client_for(fake_openai) as client:
        started = time.monotonic()
        assert client.complete(MESSAGES).text
        assert 0.9 <= time.monotonic() - started < 5
    assert len(fake_openai.requests) == 2


def test_5xx_without_retry_after_backs_off_then_gives_up(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(4, 500)
    sleeps = Sleeps()
    with client_for(fake_openai, sleep=sleeps) as client, pytest.raises(ProviderError) as err:
        client.complete(MESSAGES)
    assert str(err.value) == (
        "the AI provider failed (500): The server had an error while processing your "
        "request. (gave up after 4 attempts)"
    )
    assert not err.value.fatal
    assert len(fake_openai.requests) == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2] <= 30  # exponential


def test_401_fails_at_once_without_retry(fake_openai: FakeOpenAI) -> None:
    sleeps = Sleeps()
    client = client_for(fake_openai, key="sk-wrong", sleep=sleeps)
    with client, pytest.raises(ProviderError) as err:
        list(client.stream_chat(MESSAGES))
    assert str(err.value) == (
        "the AI provider rejected the API key (401): Incorrect API key provided."
    )
    assert err.value.status == 401 and err.value.fatal
    assert len(fake_openai.requests) == 1 and sleeps == []


def test_unknown_model_is_named(fake_openai: FakeOpenAI) -> None:
    fake_openai.models = ["gpt-4o-mini"]
    with client_for(fake_openai, model="gpt-nope") as client, pytest.raises(ProviderError) as e:
        client.complete(MESSAGES)
    assert str(e.value).startswith("model 'gpt-nope' not found (404): The model `gpt-nope`")
    assert len(fake_openai.requests) == 1


def test_wrong_base_url_says_so(fake_openai: FakeOpenAI) -> None:
    config = ProviderConfig(fake_openai.base_url.removesuffix("/v1"), "sk-test", "m")
    with ChatClient(config) as client, pytest.raises(ProviderError) as err:
        client.complete(MESSAGES)
    assert "no chat completions endpoint" in str(err.value)
    assert "JOBBOARD_AI_BASE_URL" in str(err.value)


def test_400_is_not_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, 400, message="messages: too long")
    with client_for(fake_openai, sleep=Sleeps()) as client, pytest.raises(ProviderError) as e:
        client.complete(MESSAGES)
    assert str(e.value) == "the AI provider rejected the request (400): messages: too long"
    assert len(fake_openai.requests) == 1


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    config = ProviderConfig(f"http://127.0.0.1:{port}/v1", "", "m")
    with ChatClient(config, sleep=sleeps) as client, pytest.raises(ProviderError) as err:
        client.complete(MESSAGES)
    assert str(err.value).startswith(f"could not connect to the AI provider at {config.base_url}")
    assert str(err.value).endswith("(gave up after 4 attempts)")
    assert len(sleeps) == 3


def test_read_timeout_is_retried_then_reported(fake_openai: FakeOpenAI) -> None:
    fake_openai.first_byte_delay = 0.5
    client = client_for(fake_openai, timeout=httpx.Timeout(0.2), max_attempts=2, sleep=Sleeps())
    with client, pytest.raises(ProviderError) as err:
        client.complete(MESSAGES)
    assert str(err.value) == "the AI provider sent nothing for 0.2 s (gave up after 2 attempts)"
    assert len(fake_openai.requests) == 2


def test_a_stream_that_breaks_off_mid_answer_is_not_repeated() -> None:
    body = 'data: {"choices":[{"index":0,"delta":{"content":"Half"}}]}\n\n'
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = ChatClient(
        ProviderConfig("http://fake/v1", "", "m"), transport=httpx.MockTransport(handler)
    )
    got: list[Any] = []
    with pytest.raises(ProviderError, match=r"broke off: .*ended before the answer was complete"):
        got.extend(client.stream_chat(MESSAGES))
    assert got == ["Half"] and len(calls) == 1


def test_error_event_in_the_stream_is_reported() -> None:
    body = 'data: {"error": {"message": "context length exceeded"}}\n\n'
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    client = ChatClient(ProviderConfig("http://fake/v1", "", "m"), transport=transport)
    with pytest.raises(ProviderError, match="reported an error: context length exceeded"):
        client.complete(MESSAGES)


def test_a_server_that_ignores_stream_still_works() -> None:
    answer = {
        "choices": [{"index": 0, "message": {"content": "Whole"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        "model": "m-1",
    }
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=answer))
    client = ChatClient(ProviderConfig("http://fake/v1", "", "m"), transport=transport)
    result = client.complete(MESSAGES)
    assert (result.text, result.usage, result.model) == ("Whole", Usage(5, 1, 6), "m-1")


def test_a_server_that_refuses_stream_options_is_asked_again_without() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        if "stream_options" in bodies[-1]:
            return httpx.Response(400, json={"error": {"message": "unknown field stream_options"}})
        sse = 'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse)

    client = ChatClient(
        ProviderConfig("http://fake/v1", "", "m"), transport=httpx.MockTransport(handler)
    )
    assert client.complete(MESSAGES).text == "ok"
    assert client.complete(MESSAGES).text == "ok"
    assert ["stream_options" in b for b in bodies] == [True, False, False]


# -- configuration -----------------------------------------------------------------------


def test_not_configured_without_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JOBBOARD_AI_BASE_URL", "JOBBOARD_AI_API_KEY", "JOBBOARD_AI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    assert provider_config() is None
    for name in ("JOBBOARD_AI_BASE_URL", "JOBBOARD_AI_API_KEY", "JOBBOARD_AI_MODEL"):
        assert name in NOT_CONFIGURED_MESSAGE
    monkeypatch.setenv("JOBBOARD_AI_MODEL", "llama3")
    assert provider_config() is None  # a model alone is not a provider


def test_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBBOARD_AI_API_KEY", raising=False)
    monkeypatch.delenv("JOBBOARD_AI_MODEL", raising=False)
    monkeypatch.setenv("JOBBOARD_AI_BASE_URL", "http://localhost:11434/v1/")
    assert provider_config() == ProviderConfig("http://localhost:11434/v1", "", "gpt-4o-mini")
    monkeypatch.setenv("JOBBOARD_AI_MODEL", "llama3")
    monkeypatch.setenv("JOBBOARD_AI_API_KEY", "sk-x")
    assert provider_config() == ProviderConfig("http://localhost:11434/v1", "sk-x", "llama3")


# -- the describe job's prompt -----------------------------------------------------------


def test_prompt_carries_the_facts_and_plain_text() -> None:
    from jobboard.core.models import Product

    product = Product(
        owner_id="o", key="k", title="Blue Mug", vendor="Acme", product_type="Mug",
        tags=["kitchen", "blue"], options=[{"name": "Size", "values": ["S", "L"]}],
        description="<p>Holds <b>350&nbsp;ml</b>.</p><ul><li>Dishwasher safe</li></ul>",
    )  # fmt: skip
    system, user = build_messages(product, "Write in German.")
    assert "60 to 120 words" in system["content"] and "never invent" in system["content"]
    text = user["content"]
    for line in ("Title: Blue Mug", "Vendor: Acme", "Type: Mug", "Tags: kitchen, blue",
                 "Size: S, L", "Current description: Holds 350 ml.\nDishwasher safe"):  # fmt: skip
        assert line in text
    assert text.endswith("Write in German.")
    assert plain_text("<script>x()</script>A &amp; B") == "A & B"

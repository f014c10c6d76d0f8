"""Describe products job: write a short description per product through the AI provider.

The text streams in token by token, so progress moves while a description is written.
Nothing is written to the catalog here: the result lists the descriptions, and the job page
applies them when the user asks. Without a configured provider the job fails with the
setup instructions; it never makes text up.
"""

from __future__ import annotations

import contextlib
import html
import queue
import re
import threading
from collections.abc import Iterator
from typing import Any

from jobboard.core import jobs
from jobboard.core.models import Job, Product
from jobboard.core.product_query import matching_ids
from jobboard.core.products import get_products
from jobboard.core.progress import ProgressReporter
from workers.ai_provider import (
    NOT_CONFIGURED_MESSAGE,
    ChatClient,
    ProviderError,
    RetryNotice,
    StreamEnd,
    Usage,
    provider_config,
    sum_usage,
)
from workers.common import product_ids, scope_filter, with_partial

MAX_PRODUCTS = 200
EXPECTED_TOKENS = 180  # a 60–120 word answer; only for the progress bar within a product
MAX_INSTRUCTIONS = 2000
MAX_CURRENT_DESCRIPTION = 1500
IDLE_TICK = 1.0  # while the provider is quiet, report this often (a cancel is seen there)
# Step templates (`jobboard.core.steps`): "Writing description 3 of 20: Linen Shirt", and
# while the provider asks to wait "… — AI provider busy (429), retrying in 5 s (attempt 2 of 4)".
WRITING = "Writing description {n} of {total}: {title}"
RETRYING = " — AI provider {reason}, retrying in {delay} s (attempt {attempt} of {attempts})"

SYSTEM_PROMPT = (
    "You write product descriptions for an online shop. Write a concise, factual "
    "e-commerce description of the product in plain text (no Markdown, no HTML, no "
    "headings, no lists), 60 to 120 words. Use only the facts given: never invent "
    "specifications, materials, dimensions, certifications or claims. Reply with the "
    "description only."
)


def run(job_id: str) -> dict[str, Any]:
    """RQ entry point."""
    return jobs.run(job_id, describe_products)


def describe_products(job: Job, progress: ProgressReporter) -> dict[str, Any]:
    ids = _product_ids(job.params, job.owner_id)
    config = provider_config()
    if config is None:
        raise jobs.JobError(NOT_CONFIGURED_MESSAGE)
    instructions = str(job.params.get("instructions") or "").strip()[:MAX_INSTRUCTIONS]

    progress.update(step="Loading products", processed=0, total=len(ids))
    found = {p.id: p for p in get_products(job.owner_id, ids)}
    result: dict[str, Any] = {
        "descriptions": [],
        "usage": Usage().as_dict(),
        "model": config.model,
        "failed": [
            {"product_id": i, "title": "", "error": "not in your catalog any more"}
            for i in ids
            if i not in found
        ],
    }
    products = [found[i] for i in ids if i in found]
    if not products:
        raise jobs.JobError("none of the selected products are in your catalog any more")

    total = len(products)
    usages: list[Usage] = []
    tokens_done = 0  # completion tokens of finished products (the provider's count if given)
    try:
        with ChatClient(config) as client:
            for n, product in enumerate(products):
                # The numbers as values: pages write them in their viewer's locale.
                values = {"n": n + 1, "total": total, "title": _short(product.title)}
                progress.update(
                    step=WRITING, step_values=values, processed=n, total=total,
                    percentage=n * 100 / total, tokens=tokens_done,
                )  # fmt: skip
                try:
                    text, end, chunks = _describe_one(
                        client, product, instructions, progress, values, n, total, tokens_done
                    )
                except ProviderError as exc:
                    result["failed"].append(_failure(product, str(exc), exc.transient))
                    if exc.fatal:  # wrong key, model or URL: the rest would fail alike
                        result["failed"].extend(
                            _failure(p, f"not attempted: {exc}") for p in products[n + 1 :]
                        )
                        break
                else:
                    usages.append(end.usage)
                    tokens_done += (
                        end.usage.completion_tokens
                        if end.usage.completion_tokens is not None
                        else chunks
                    )
                    result["descriptions"].append(
                        {"product_id": product.id, "title": product.title, "description": text}
                    )
                result["usage"] = sum_usage(usages).as_dict()
                progress.update(
                    processed=n + 1, percentage=(n + 1) * 100 / total, tokens=tokens_done
                )
    except Exception as exc:  # cancelled or broken: keep what was written
        result["usage"] = sum_usage(usages).as_dict()
        exc.partial_result = result  # type: ignore[attr-defined]
        raise

    if not result["descriptions"]:
        passing = any(f.get("retryable") for f in result["failed"])
        raise with_partial(
            jobs.JobError(_all_failed_message(result["failed"]), retryable=passing), result
        )
    progress.update(step="Finishing", processed=total, percentage=100)
    return result


def _describe_one(
    client: ChatClient,
    product: Product,
    instructions: str,
    progress: ProgressReporter,
    step_values: dict[str, Any],
    done: int,
    total: int,
    tokens_done: int,
) -> tuple[str, StreamEnd, int]:
    """One product's description, its stream end and how many chunks it took."""
    parts: list[str] = []
    end: StreamEnd | None = None
    retrying = False
    stream = _in_background(client, build_messages(product, instructions))
    with contextlib.closing(stream):
        for item in stream:
            if item is None:  # the provider is quiet: report anyway, a cancel shows up here
                progress.update()
            elif isinstance(item, RetryNotice):
                retrying = True
                progress.update(
                    step=WRITING + RETRYING,
                    step_values=step_values
                    | {
                        "reason": item.reason,
                        "delay": round(item.delay),
                        "attempt": item.attempt + 1,
                        "attempts": item.max_attempts,
                    },
                )
            elif isinstance(item, StreamEnd):
                end = item
            else:
                parts.append(item)
                fraction = min(0.95, len(parts) / EXPECTED_TOKENS)
                progress.update(
                    step=WRITING if retrying else None,
                    step_values=step_values if retrying else None,
                    percentage=(done + fraction) * 100 / total,
                    tokens=tokens_done + len(parts),
                )
                retrying = False
    if end is None:  # not reached: a stream always ends with StreamEnd or an error
        raise ProviderError("the AI provider's answer ended early", transient=True)
    if end.finish_reason == "content_filter":
        raise ProviderError("the AI provider's content filter withheld the description")
    text = _tidy("".join(parts))
    if not text:
        raise ProviderError("the AI provider returned an empty description", transient=True)
    return text, end, len(parts)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Abandoned(Exception):
    """The consumer went away (cancelled): stop retrying."""


_END = object()


def _in_background(
    client: ChatClient, messages: list[dict[str, str]]
) -> Iterator[str | StreamEnd | RetryNotice | None]:
    """The stream, read in a thread; None every IDLE_TICK seconds without news.

    Waiting on the network (first token, Retry-After) can take long; reading in a thread
    lets the job report meanwhile, so a cancel is noticed within a second.
    """
    items: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Abandoned

    def pump() -> None:
        try:
            stream = client.stream_chat(messages, on_retry=items.put, sleep=sleep)
            try:
                for item in stream:
                    if stop.is_set():
                        return
                    items.put(item)
            finally:
                stream.close()
        except BaseException as exc:
            items.put(_Failure(exc))
        finally:
            items.put(_END)

    thread = threading.Thread(target=pump, name="ai-stream", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = items.get(timeout=IDLE_TICK)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()  # a thread still blocked on the network ends with its read timeout


def build_messages(product: Product, instructions: str = "") -> list[dict[str, str]]:
    """The chat messages for one product: its facts, the owner's instructions if any."""
    lines = [f"Title: {product.title}"]
    if product.vendor:
        lines.append(f"Vendor: {product.vendor}")
    if product.product_type:
        lines.append(f"Type: {product.product_type}")
    if product.tags:
        lines.append(f"Tags: {', '.join(str(t) for t in product.tags)}")
    for option in product.options or []:
        if not isinstance(option, dict):
            continue
        name = str(option.get("name") or "").strip()
        values = [str(v) for v in option.get("values") or [] if str(v).strip()]
        if name and values and values != ["Default Title"]:
            lines.append(f"{name}: {', '.join(values)}")
    current = plain_text(product.description)[:MAX_CURRENT_DESCRIPTION]
    lines.append(f"Current description: {current or '(none)'}")
    user = "Write the description of this product.\n\n" + "\n".join(lines)
    if instructions:
        user += (
            "\n\nInstructions from the shop owner (follow them, but never invent facts):\n"
            + instructions
        )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


_BLOCK_TAG = re.compile(
    r"(?i)<\s*/?\s*(br|p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article|blockquote)\b[^>]*>"
)


def plain_text(value: str) -> str:
    """Shopify descriptions are HTML: the model needs the words, not the markup."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", value or "")
    text = re.sub(_BLOCK_TAG, "\n", text)
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _tidy(text: str) -> str:
    text = text.strip()
    quotes = {'"': '"', "'": "'", "“": "”", "„": "“", "«": "»"}  # a wrapped answer
    first, last = text[:1], text[-1:]
    inner = text[1:-1]
    if len(text) >= 2 and quotes.get(first) == last and first not in inner and last not in inner:
        text = text[1:-1].strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _short(title: str, limit: int = 80) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _failure(product: Product, error: str, retryable: bool = False) -> dict[str, Any]:
    """A product that got no description; `retryable` when the cause may pass (a timeout,
    a rate limit, a provider error), so "Retry failed items" can change the outcome."""
    return {
        "product_id": product.id,
        "title": product.title,
        "error": error,
        "retryable": retryable,
    }


def _all_failed_message(failed: list[dict[str, Any]]) -> str:
    errors = [f["error"] for f in failed if not f["error"].startswith("not attempted: ")]
    errors = [e for e in errors if e != "not in your catalog any more"] or errors
    first = errors[0] if errors else "no description could be written"
    others = len({e for e in errors if e != first})
    return first if not others else f"{first} (and {others} other errors; see the failed list)"


def _product_ids(params: dict[str, Any], owner_id: str) -> list[int]:
    raw = params.get("product_ids")
    flt = scope_filter(params)
    if raw is None and flt is not None:  # "all matching": resolved for the job's owner
        raw = matching_ids(owner_id, flt, limit=MAX_PRODUCTS + 1)
        if not raw:
            raise jobs.JobError(f"no products {flt.describe()}: nothing to describe")
        if len(raw) > MAX_PRODUCTS:
            raise jobs.JobError(
                f"more than {MAX_PRODUCTS} products {flt.describe()}; narrow the search "
                f"to at most {MAX_PRODUCTS}"
            )
    if raw is None:
        raw = []
    ids = product_ids(raw, empty_message="select at least one product to describe")
    if len(ids) > MAX_PRODUCTS:
        raise jobs.JobError(
            f"at most {MAX_PRODUCTS} products can be described in one job; {len(ids)} were selected"
        )
    return ids

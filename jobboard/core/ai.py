"""AI provider settings, shared by the AI page (to explain) and the worker (to call)."""

from __future__ import annotations

import os
from dataclasses import dataclass

NOT_CONFIGURED_MESSAGE = (
    "No AI provider is configured. Set JOBBOARD_AI_BASE_URL (an OpenAI-compatible API, e.g. "
    "https://api.openai.com/v1), JOBBOARD_AI_API_KEY and JOBBOARD_AI_MODEL, then restart Jobboard."
)


@dataclass(frozen=True)
class ProviderConfig:
    base_url: str
    api_key: str
    model: str


def provider_config() -> ProviderConfig | None:
    """The configured provider, or None: then generation is refused, never faked."""
    base_url = os.environ.get("JOBBOARD_AI_BASE_URL", "").strip().rstrip("/")
    if not base_url:
        return None
    model = os.environ.get("JOBBOARD_AI_MODEL", "").strip() or "gpt-4o-mini"
    return ProviderConfig(base_url, os.environ.get("JOBBOARD_AI_API_KEY", "").strip(), model)

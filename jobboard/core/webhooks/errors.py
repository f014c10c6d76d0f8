"""Webhook errors; their messages are safe to show to the user who registered the webhook."""

from __future__ import annotations


class WebhookError(Exception):
    """A refused webhook action or target; `str(error)` is a user-facing message."""

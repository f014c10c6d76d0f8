"""Account errors; their messages are safe to show to the person signing in."""

from __future__ import annotations


class AccountError(Exception):
    """A refused account action; `str(error)` is a user-facing message."""


class SignInThrottled(AccountError):
    """Too many failed sign-ins for this account or address; retry after a while."""

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = seconds = max(1, int(retry_after_seconds))
        unit = "second" if seconds == 1 else "seconds"
        super().__init__(f"Too many failed sign-ins. Try again in {seconds} {unit}.")

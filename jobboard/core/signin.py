"""What the HTTP routes and the Reflex state share about browser sign-in: the cookie's name,
reading it from a Cookie header, and where a visitor may be sent after signing in."""

from __future__ import annotations

SESSION_COOKIE = "jobboard_session"
DEFAULT_NEXT = "/tasks"
_NOT_NEXT = ("/sign-in", "/sign-up", "/api/", "/_")


def cookie_value(header: str, name: str = SESSION_COOKIE) -> str:
    """One cookie's value from a Cookie header ("" if absent)."""
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return ""


def safe_next(value: object, default: str = DEFAULT_NEXT) -> str:
    """A same-site relative path to go to after signing in; anything else becomes `default`.

    Only paths that start with one "/" (not "//", not "/\\"), without control characters or
    backslashes, and not the sign-in pages or API themselves.
    """
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if len(value) > 2000 or "\\" in value:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    if value.startswith(_NOT_NEXT):
        return default
    return value

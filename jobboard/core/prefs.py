"""Per-user notification preferences."""

from __future__ import annotations

from typing import Any

from jobboard.core.db import session_scope
from jobboard.core.models import NotificationPrefs, utcnow

PREF_FIELDS = ("on_completed", "on_failed", "on_cancelled", "only_in_background")


def get_prefs(owner_id: str) -> NotificationPrefs:
    """The owner's preferences, or the defaults when they never changed them."""
    with session_scope() as session:
        return session.get(NotificationPrefs, owner_id) or NotificationPrefs(owner_id=owner_id)


def save_prefs(owner_id: str, **changes: Any) -> NotificationPrefs:
    unknown = set(changes) - set(PREF_FIELDS)
    if unknown:
        raise ValueError(f"unknown preference(s): {', '.join(sorted(unknown))}")
    with session_scope() as session:
        prefs = session.get(NotificationPrefs, owner_id) or NotificationPrefs(owner_id=owner_id)
        for name, value in changes.items():
            setattr(prefs, name, bool(value))
        prefs.updated_at = utcnow()
        session.add(prefs)
    return prefs

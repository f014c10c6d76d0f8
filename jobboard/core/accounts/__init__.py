"""Accounts: users, server-side sign-in sessions and personal API tokens (no UI, no HTTP)."""

from jobboard.core.accounts.errors import AccountError, SignInThrottled
from jobboard.core.accounts.models import ApiToken, SignInSession, User
from jobboard.core.accounts.passwords import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    normalize_email,
    validate_email,
    validate_password,
)
from jobboard.core.accounts.sessions import (
    end_all_sessions,
    end_session,
    start_session,
    user_for_session,
)
from jobboard.core.accounts.tokens import (
    create_api_token,
    list_api_tokens,
    looks_like_token,
    revoke_api_token,
    user_for_token,
)
from jobboard.core.accounts.users import (
    authenticate,
    create_user,
    disable_user,
    get_user,
    list_users,
    signup_allowed,
)

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "AccountError",
    "ApiToken",
    "SignInSession",
    "SignInThrottled",
    "User",
    "authenticate",
    "create_api_token",
    "create_user",
    "disable_user",
    "end_all_sessions",
    "end_session",
    "get_user",
    "list_api_tokens",
    "list_users",
    "looks_like_token",
    "normalize_email",
    "revoke_api_token",
    "signup_allowed",
    "start_session",
    "user_for_session",
    "user_for_token",
    "validate_email",
    "validate_password",
]

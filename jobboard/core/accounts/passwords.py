"""Email and password rules, and password hashing with Argon2 (pwdlib)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from jobboard.core.accounts.errors import AccountError

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_EMAIL = 254
MAX_LOCAL_PART = 64
# RFC 5322 "atext" besides letters and digits; dots are checked separately.
_LOCAL_SPECIALS = set("!#$%&'*+/=?^_`{|}~-")
# Control, format (bidi overrides, zero-width), separators, private use, surrogates, unassigned.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}

_hasher = PasswordHash((Argon2Hasher(),))


def normalize_email(email: str) -> str:
    """How emails are stored and looked up: stripped and lower-cased (no validation)."""
    return email.strip().lower() if isinstance(email, str) else ""


def validate_email(email: str) -> str:
    """The normalised email, or AccountError saying what is wrong with it."""
    value = normalize_email(email)
    if not value:
        raise AccountError("Enter an email address.")
    if len(value) > MAX_EMAIL:
        raise AccountError(f"An email address has at most {MAX_EMAIL} characters.")
    if any(ch.isspace() or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in value):
        raise AccountError("An email address cannot contain spaces or invisible characters.")
    if value.count("@") != 1:
        raise AccountError("An email address has exactly one @, like name@example.com.")
    local, domain = value.split("@")
    if not local or len(local) > MAX_LOCAL_PART:
        raise AccountError(f"The part before the @ must have 1 to {MAX_LOCAL_PART} characters.")
    if (
        local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or not all(ch.isalnum() or ch == "." or ch in _LOCAL_SPECIALS for ch in local)
    ):
        raise AccountError("The part before the @ has characters an email address cannot use.")
    labels = domain.split(".")
    if len(labels) < 2:
        raise AccountError("The domain after the @ needs a dot, like example.com.")
    for label in labels:
        if (
            not label
            or len(label) > 63
            or label.startswith("-")
            or label.endswith("-")
            or not all(ch.isalnum() or ch == "-" for ch in label)
        ):
            raise AccountError("The domain after the @ is not a valid domain name.")
    return value


def _normalize_password(password: str) -> str:
    # NFKC so the same password typed on another keyboard/OS still matches.
    return unicodedata.normalize("NFKC", password)


def validate_password(password: str) -> str:
    """The password as it will be hashed, or AccountError saying what is wrong with it."""
    if not isinstance(password, str) or not password:
        raise AccountError("Enter a password.")
    if len(password) > 4 * MAX_PASSWORD:  # do not even normalise absurd input
        raise AccountError(f"A password has at most {MAX_PASSWORD} characters.")
    value = _normalize_password(password)
    if len(value) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(value) > MAX_PASSWORD:
        raise AccountError(f"A password has at most {MAX_PASSWORD} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise AccountError("A password cannot contain control characters.")
    if not value.strip():
        raise AccountError("A password cannot be only spaces.")
    return value


def hash_password(password: str) -> str:
    """Argon2 hash of a password that passed `validate_password`."""
    return _hasher.hash(validate_password(password))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a real password: only spends the time of a check")


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded).

    Without a stored hash (unknown email) or with a password no account could have, it still
    spends one Argon2 check, so the time taken does not tell whether the account exists.
    """
    try:
        value = validate_password(password)
    except AccountError:
        value = None
    if password_hash is None or value is None:
        _hasher.verify("wrong password", _dummy_hash())
        return False, None
    try:
        return _hasher.verify_and_update(value, password_hash)
    except Exception:  # a malformed stored hash must not open the door
        return False, None

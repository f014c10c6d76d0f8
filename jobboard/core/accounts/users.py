"""Users: sign-up (the first user becomes admin and takes over the pre-accounts data),
sign-in with throttling, and the admin's list and disable."""

from __future__ import annotations

from sqlalchemy import delete, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from jobboard.core.accounts import throttle
from jobboard.core.accounts.errors import AccountError
from jobboard.core.accounts.models import SignInSession, User
from jobboard.core.accounts.passwords import (
    hash_password,
    normalize_email,
    validate_email,
    verify_password,
)
from jobboard.core.db import session_scope
from jobboard.core.models import Job, NotificationPrefs, Product, utcnow
from jobboard.core.settings import get_settings

WRONG_CREDENTIALS = "Wrong email or password."
EMAIL_TAKEN = "An account with this email already exists."


def _count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def signup_allowed() -> bool:
    """JOBBOARD_SIGNUP=open|closed; unset: open while there is no user yet, then closed."""
    mode = get_settings().signup
    if mode:
        return mode == "open"
    with session_scope() as session:
        return _count_users(session) == 0


def _serialize_signups(session: Session) -> None:
    """Take the write lock first, so two concurrent first sign-ups cannot both become admin."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE user_account IN SHARE ROW EXCLUSIVE MODE"))
    else:  # SQLite: an UPDATE (even of no row) starts the transaction with the write lock
        session.execute(text("UPDATE user_account SET email = email WHERE 1 = 0"))


def _claim_local_data(session: Session, user_id: str) -> None:
    """Jobs, products and notification prefs of the pre-accounts local user become user_id's.

    Redis job snapshots still carry the old owner_id in their payload; they are left alone and
    expire (the database row is the durable record).
    """
    local = get_settings().local_user
    for model in (Job, Product, NotificationPrefs):
        session.execute(update(model).where(model.owner_id == local).values(owner_id=user_id))


def create_user(email: str, password: str, *, is_admin: bool = False) -> User:
    """A new account. The very first one is an admin and takes over the "local" user's data.

    Raises AccountError (user-facing) for a bad email, a weak password or a taken email. Whether
    sign-up is open at all is the caller's question (`signup_allowed`).
    """
    address = validate_email(email)
    password_hash = hash_password(password)
    try:
        with session_scope() as session:
            _serialize_signups(session)
            if session.exec(select(User.id).where(User.email == address)).first():
                raise AccountError(EMAIL_TAKEN)
            first = _count_users(session) == 0
            user = User(email=address, password_hash=password_hash, is_admin=is_admin or first)
            session.add(user)
            session.flush()
            if first:
                _claim_local_data(session, user.id)
    except IntegrityError as exc:  # the unique email index caught a concurrent sign-up
        raise AccountError(EMAIL_TAKEN) from exc
    return user


def get_user(user_id: str) -> User | None:
    """The user with this id, disabled or not."""
    with session_scope() as session:
        return session.get(User, user_id)


def authenticate(email: str, password: str, *, address: str) -> User:
    """The user for these credentials.

    Unknown email, wrong password and disabled account all raise the same AccountError (and
    take the same Argon2 time). Too many recent failures for the account or the address raise
    SignInThrottled, even with the right password.
    """
    typed = normalize_email(email)[:320]
    throttle.check(typed, address)
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == typed)).first() if typed else None
        ok, new_hash = verify_password(password, user.password_hash if user else None)
        if ok and user is not None and user.disabled_at is None:
            user.last_sign_in_at = utcnow()
            if new_hash:
                user.password_hash = new_hash
            session.add(user)
            return user
    throttle.record_failure(typed, address)
    raise AccountError(WRONG_CREDENTIALS)


def list_users() -> list[User]:
    """Every account, oldest first."""
    with session_scope() as session:
        return list(session.exec(select(User).order_by(User.created_at, User.id)).all())


def disable_user(admin_id: str, user_id: str) -> User:
    """Disable an account at once: its sessions end and its API tokens stop working.

    Only an enabled admin may do it, and not to themselves.
    """
    with session_scope() as session:
        admin = session.get(User, admin_id)
        if admin is None or not admin.is_admin or admin.disabled_at is not None:
            raise AccountError("Only an administrator can disable accounts.")
        if admin_id == user_id:
            raise AccountError("You cannot disable your own account.")
        user = session.get(User, user_id)
        if user is None:
            raise AccountError("No such account.")
        if user.disabled_at is None:
            user.disabled_at = utcnow()
            session.add(user)
        session.execute(delete(SignInSession).where(SignInSession.user_id == user_id))
        return user

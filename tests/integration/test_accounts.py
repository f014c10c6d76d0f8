"""Accounts core: users, sign-in limits, server-side sessions, API tokens, admin disable."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from jobboard.core import accounts
from jobboard.core.accounts import (
    AccountError,
    ApiToken,
    SignInSession,
    SignInThrottled,
    User,
    authenticate,
    create_api_token,
    create_user,
    disable_user,
    end_all_sessions,
    end_session,
    list_api_tokens,
    list_users,
    looks_like_token,
    revoke_api_token,
    signup_allowed,
    start_session,
    user_for_session,
    user_for_token,
)
from jobboard.core.db import migrate, session_scope
from jobboard.core.models import Job, NotificationPrefs, Product, utcnow
from jobboard.core.settings import get_settings, normalize_database_url
from scripts.stack import Stack

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("JOBBOARD_TEST_POSTGRES_URL", "")


def email(tag: str = "u") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


@pytest.fixture
def user(services: Stack) -> User:
    return create_user(email(), PASSWORD)


@pytest.fixture
def other(services: Stack) -> User:
    return create_user(email("other"), PASSWORD)


@pytest.fixture
def admin(services: Stack) -> User:
    return create_user(email("admin"), PASSWORD, is_admin=True)


@pytest.fixture
def fresh_db(services: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty migrated SQLite database for this test only (Redis stays shared)."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    migrate()
    try:
        yield url
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def raw_rows(table: str) -> list[str]:
    """Every row of a table as one string of all its values."""
    with session_scope() as session:
        rows = session.execute(text(f"SELECT * FROM {table}")).all()
    return [" ".join(str(value) for value in row) for row in rows]


# --- sign-up -------------------------------------------------------------------------------


def test_first_user_is_admin_and_claims_local_data(fresh_db: str) -> None:
    local = get_settings().local_user
    with session_scope() as session:
        session.add(Job(id=uuid.uuid4().hex, owner_id=local, kind="product_upload", title="a"))
        session.add(Job(id=uuid.uuid4().hex, owner_id="someone-else", kind="x", title="b"))
        session.add(Product(owner_id=local, key="shirt", title="Shirt"))
        session.add(NotificationPrefs(owner_id=local, on_cancelled=True))
    assert signup_allowed()

    first = create_user("  First@Example.COM ", PASSWORD)
    assert first.is_admin and first.email == "first@example.com" and len(first.id) == 32
    with session_scope() as session:
        assert session.exec(select(Job).where(Job.owner_id == local)).all() == []
        assert [j.title for j in session.exec(select(Job).where(Job.owner_id == first.id))] == ["a"]
        assert session.exec(select(Job).where(Job.owner_id == "someone-else")).one().title == "b"
        assert session.exec(select(Product).where(Product.owner_id == first.id)).one().key == (
            "shirt"
        )
        assert session.get(NotificationPrefs, first.id).on_cancelled
        assert session.get(NotificationPrefs, local) is None

    assert not signup_allowed()  # default: closed once someone exists
    second = create_user(email(), PASSWORD)
    assert not second.is_admin
    assert [u.id for u in list_users()] == [first.id, second.id]


def test_signup_setting(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    create_user(email(), PASSWORD)
    for value, allowed in (("open", True), ("closed", False), (" OPEN ", True)):
        monkeypatch.setenv("JOBBOARD_SIGNUP", value)
        get_settings.cache_clear()
        assert signup_allowed() is allowed
    monkeypatch.setenv("JOBBOARD_SIGNUP", "maybe")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="JOBBOARD_SIGNUP"):
        get_settings()
    monkeypatch.delenv("JOBBOARD_SIGNUP")
    get_settings.cache_clear()


def test_duplicate_email_in_other_case_is_refused(user: User) -> None:
    with pytest.raises(AccountError, match="already exists"):
        create_user(user.email.upper(), "another password 123")
    with pytest.raises(AccountError, match="already exists"):
        create_user(f"  {user.email.title()}  ", "another password 123")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter an email"),
        ("   ", "Enter an email"),
        (None, "Enter an email"),
        ("a" * 10_000 + "@example.com", "at most 254"),
        ("nul\x00byte@example.com", "spaces or invisible"),
        ("\u202emoc.elpmaxe@evil", "spaces or invisible"),
        ("zero\u200bwidth@example.com", "spaces or invisible"),
        ("x'; DROP TABLE user_account;--@example.com", "spaces or invisible"),
        ("a\r\nBcc: x@example.com", "spaces or invisible"),
        ("no-at-sign.example.com", "exactly one @"),
        ("two@@example.com", "exactly one @"),
        ("a@b@example.com", "exactly one @"),
        ("nodot@localhost", "needs a dot"),
        ("@example.com", "before the @"),
        ("dots..twice@example.com", "before the @"),
        ("<script>@example.com", "before the @"),
        ("a@exa_mple.com", "not a valid domain"),
        ("a@example..com", "not a valid domain"),
        ("a@.example.com", "not a valid domain"),
        ("a@-example.com", "not a valid domain"),
    ],
)
def test_bad_emails_are_refused_clearly(services: Stack, value: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        create_user(value, PASSWORD)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter a password"),
        (None, "Enter a password"),
        ("short", "at least 10"),
        ("x" * 257, "at most 256"),
        ("x" * 10_000, "at most 256"),
        ("abcdefghij\x00klm", "control characters"),
        ("abcdefghij\x1b[2J", "control characters"),
        (" " * 12, "only spaces"),
    ],
)
def test_weak_or_hostile_passwords_are_refused_clearly(
    services: Stack, value: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        create_user(email(), value)


def test_unusual_but_valid_values_round_trip(services: Stack) -> None:
    sqlish = f"o'brien+{uuid.uuid4().hex[:8]}@Example.com"
    password = "' OR 1=1 -- \u202e ünïcödé"
    made = create_user(sqlish, password)
    assert made.email == sqlish.lower()
    assert authenticate(sqlish, password, address=address()).id == made.id


# --- sign-in -------------------------------------------------------------------------------


def test_sign_in_updates_last_sign_in(user: User) -> None:
    assert user.last_sign_in_at is None
    signed = authenticate(user.email.upper(), PASSWORD, address=address())
    assert signed.id == user.id and signed.last_sign_in_at is not None


def test_wrong_password_and_unknown_email_look_the_same(user: User) -> None:
    where = address()
    with pytest.raises(AccountError) as wrong:
        authenticate(user.email, "wrong password!", address=where)
    with pytest.raises(AccountError) as unknown:
        authenticate(email("nobody"), PASSWORD, address=where)
    with pytest.raises(AccountError) as hostile:
        authenticate("x" * 10_000, "\x00" * 10_000, address=where)
    assert str(wrong.value) == str(unknown.value) == str(hostile.value)
    assert str(wrong.value) == "Wrong email or password."
    assert not isinstance(wrong.value, SignInThrottled)


def test_unknown_email_spends_argon2_time(user: User) -> None:
    def timed(mail: str) -> float:
        where = address()
        started = time.perf_counter()
        with pytest.raises(AccountError):
            authenticate(mail, "wrong password!", address=where)
        return time.perf_counter() - started

    known = statistics.median(timed(user.email) for _ in range(3))
    unknown = statistics.median(timed(email("nobody")) for _ in range(3))
    assert unknown > known * 0.4, (known, unknown)


def test_rehash_when_parameters_change(user: User) -> None:
    weak = accounts.passwords.PasswordHash(
        (accounts.passwords.Argon2Hasher(time_cost=1, memory_cost=8192),)
    ).hash(PASSWORD)
    with session_scope() as session:
        row = session.get(User, user.id)
        row.password_hash = weak
        session.add(row)
    authenticate(user.email, PASSWORD, address=address())
    with session_scope() as session:
        stored = session.get(User, user.id).password_hash
    assert stored != weak and stored.startswith("$argon2id$") and "m=65536" in stored


def test_throttled_after_failures_per_account(user: User) -> None:
    for _ in range(5):  # from different addresses: only the account limit applies
        with pytest.raises(AccountError, match="Wrong email"):
            authenticate(user.email, "wrong password!", address=address())
    with pytest.raises(SignInThrottled) as throttled:
        authenticate(user.email, PASSWORD, address=address())  # even the right password
    assert 1 <= throttled.value.retry_after_seconds <= 60
    assert f"Try again in {throttled.value.retry_after_seconds} second" in str(throttled.value)
    # Another account from one of those addresses is not affected.
    other = create_user(email(), PASSWORD)
    assert authenticate(other.email, PASSWORD, address=address()).id == other.id


def test_throttled_after_failures_per_address(user: User) -> None:
    where = address()
    for _ in range(20):  # twenty different (unknown) accounts from one address
        with pytest.raises(AccountError, match="Wrong email"):
            authenticate(email("guess"), "wrong password!", address=where)
    with pytest.raises(SignInThrottled) as throttled:
        authenticate(user.email, PASSWORD, address=where)
    assert 1 <= throttled.value.retry_after_seconds <= 60
    # The same account from elsewhere still signs in.
    assert authenticate(user.email, PASSWORD, address=address()).id == user.id


def test_successful_sign_ins_do_not_count(user: User) -> None:
    where = address()
    for _ in range(4):
        with pytest.raises(AccountError, match="Wrong email"):
            authenticate(user.email, "wrong password!", address=where)
    for _ in range(8):
        assert authenticate(user.email, PASSWORD, address=where).id == user.id


# --- sessions ------------------------------------------------------------------------------


def test_session_start_resolve_end(user: User) -> None:
    secret = start_session(user, address="192.0.2.1", user_agent="Firefox\x00" + "x" * 1000)
    assert len(secret) >= 43
    assert user_for_session(secret).id == user.id
    row = raw_rows("signin_session")
    assert not any(secret in r for r in row)
    with session_scope() as session:
        stored = session.exec(select(SignInSession).where(SignInSession.user_id == user.id)).one()
    assert len(stored.id) == 64 and stored.id != secret
    assert len(stored.user_agent) == 300 and "\x00" not in stored.user_agent
    assert (stored.expires_at - stored.created_at) == timedelta(days=30)
    with session_scope() as session:
        assert session.get(User, user.id).last_sign_in_at is not None  # shown on Settings → Users

    end_session(secret)
    assert user_for_session(secret) is None
    for junk in ("", "nope", "x" * 100_000, None, secret + "x"):
        assert user_for_session(junk) is None  # type: ignore[arg-type]
        end_session(junk)  # type: ignore[arg-type]


def test_session_expires(user: User) -> None:
    secret = start_session(user, address="192.0.2.1", user_agent="t", days=1)
    with session_scope() as session:
        row = session.exec(select(SignInSession).where(SignInSession.user_id == user.id)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert user_for_session(secret) is None


def test_session_last_seen_is_touched_at_most_once_a_minute(user: User) -> None:
    secret = start_session(user, address="192.0.2.1", user_agent="t")

    def last_seen():
        with session_scope() as session:
            query = select(SignInSession).where(SignInSession.user_id == user.id)
            return session.exec(query).one().last_seen_at

    first = last_seen()
    user_for_session(secret)
    assert last_seen() == first
    with session_scope() as session:
        row = session.exec(select(SignInSession).where(SignInSession.user_id == user.id)).one()
        row.last_seen_at = first - timedelta(minutes=2)
        session.add(row)
    user_for_session(secret)
    assert last_seen() > first - timedelta(minutes=2)


def test_end_all_sessions(user: User, other: User) -> None:
    mine = [start_session(user, address="a", user_agent="b") for _ in range(3)]
    theirs = start_session(other, address="a", user_agent="b")
    assert end_all_sessions(user.id) == 3
    assert all(user_for_session(s) is None for s in mine)
    assert user_for_session(theirs).id == other.id


# --- API tokens ----------------------------------------------------------------------------


def test_token_format_and_checksum(user: User) -> None:
    raw, token = create_api_token(user.id, "  CI script  ")
    assert raw.startswith("jb_") and len(raw) == 39 and raw[3:].isalnum()
    assert looks_like_token(raw)
    assert token.name == "CI script" and token.prefix == raw[:9] and len(token.id) == 32
    typo = raw[:10] + ("a" if raw[10] != "a" else "b") + raw[11:]
    assert not looks_like_token(typo)
    assert user_for_token(typo) is None
    for junk in ("", "jb_", raw + "x", raw.upper(), "gh_" + raw[3:], None, "jb_" + "é" * 36):
        assert not looks_like_token(junk)  # type: ignore[arg-type]
        assert user_for_token(junk) is None  # type: ignore[arg-type]
    assert user_for_token(raw).id == user.id


def test_token_is_stored_as_a_hash(user: User) -> None:
    raw, token = create_api_token(user.id, "stored")
    rows = [r for r in raw_rows("api_token") if token.id in r]
    assert len(rows) == 1 and raw not in rows[0] and raw[3:] not in rows[0]
    assert len(token.token_hash) == 64


def test_a_valid_looking_unknown_token_is_refused(user: User) -> None:
    fake = accounts.tokens._new_raw_token()
    assert looks_like_token(fake) and user_for_token(fake) is None


def test_token_revoke_and_listing(user: User, other: User) -> None:
    raw, token = create_api_token(user.id, "first")
    _raw2, token2 = create_api_token(user.id, "second")
    assert [t.id for t in list_api_tokens(user.id)][:2] in (
        [token2.id, token.id],
        [token.id, token2.id],
    )
    assert list_api_tokens(other.id) == []

    assert revoke_api_token(other.id, token.id) is False  # not theirs: untouched
    assert user_for_token(raw).id == user.id
    assert revoke_api_token(user.id, "no-such-token") is False
    assert revoke_api_token(user.id, token.id) is True
    assert user_for_token(raw) is None
    listed = {t.id: t for t in list_api_tokens(user.id)}
    assert listed[token.id].revoked_at is not None and listed[token2.id].revoked_at is None


def test_expired_token_is_refused(user: User) -> None:
    with pytest.raises(AccountError, match="future"):
        create_api_token(user.id, "past", expires_at=utcnow() - timedelta(minutes=1))
    raw, token = create_api_token(user.id, "soon", expires_at=utcnow() + timedelta(hours=1))
    assert user_for_token(raw).id == user.id
    with session_scope() as session:
        row = session.get(ApiToken, token.id)
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert user_for_token(raw) is None


def test_token_names_are_checked(user: User) -> None:
    for name, message in (
        ("", "Give the token"),
        ("x" * 101, "at most 100"),
        ("a\x00b", "control"),
    ):
        with pytest.raises(AccountError, match=message):
            create_api_token(user.id, name)
    with pytest.raises(AccountError, match="No such account"):
        create_api_token("nobody", "x")


def test_token_last_used_is_updated_at_most_once_a_minute(user: User) -> None:
    raw, token = create_api_token(user.id, "used")
    assert token.last_used_at is None

    def last_used():
        with session_scope() as session:
            return session.get(ApiToken, token.id).last_used_at

    user_for_token(raw)
    first = last_used()
    assert first is not None
    user_for_token(raw)
    assert last_used() == first
    with session_scope() as session:
        row = session.get(ApiToken, token.id)
        row.last_used_at = first - timedelta(minutes=2)
        session.add(row)
    user_for_token(raw)
    assert last_used() >= first


# --- admin ---------------------------------------------------------------------------------


def test_disabling_a_user_cuts_access_at_once(admin: User, user: User) -> None:
    secret = start_session(user, address="a", user_agent="b")
    raw, _token = create_api_token(user.id, "t")
    assert user_for_session(secret).id == user.id and user_for_token(raw).id == user.id

    disabled = disable_user(admin.id, user.id)
    assert disabled.disabled_at is not None
    assert user_for_session(secret) is None
    assert user_for_token(raw) is None
    with session_scope() as session:
        assert (
            session.exec(select(SignInSession).where(SignInSession.user_id == user.id)).all() == []
        )
    with pytest.raises(AccountError, match="Wrong email or password"):
        authenticate(user.email, PASSWORD, address=address())
    with pytest.raises(AccountError):
        start_session(disabled, address="a", user_agent="b")
    with pytest.raises(AccountError, match="No such account"):
        create_api_token(user.id, "new")


def test_disable_rules(admin: User, user: User, other: User) -> None:
    with pytest.raises(AccountError, match="own account"):
        disable_user(admin.id, admin.id)
    with pytest.raises(AccountError, match="Only an administrator"):
        disable_user(user.id, other.id)
    with pytest.raises(AccountError, match="No such account"):
        disable_user(admin.id, "nobody")
    assert {admin.id, user.id, other.id} <= {u.id for u in list_users()}


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="JOBBOARD_TEST_POSTGRES_URL is not set")
def test_accounts_on_postgres(services: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 0005 migration up, down and up again, then the whole flow on PostgreSQL."""
    import psycopg
    from alembic import command

    from jobboard.core.db import _engine_for, alembic_config

    name = f"jobboard_test_{uuid.uuid4().hex[:10]}"
    admin_url = normalize_database_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    db_url = normalize_database_url(admin_url.rsplit("/", 1)[0] + "/" + name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        monkeypatch.setenv("DATABASE_URL", db_url)
        get_settings.cache_clear()
        migrate()
        command.downgrade(alembic_config(), "0004")
        command.upgrade(alembic_config(), "head")

        with session_scope() as session:
            session.add(Product(owner_id=get_settings().local_user, key="k", title="T"))
        first = create_user("PG@Example.com", PASSWORD)
        assert first.is_admin
        with pytest.raises(AccountError, match="already exists"):
            create_user("pg@EXAMPLE.com", PASSWORD)
        second = create_user(email(), PASSWORD)
        assert authenticate("pg@example.com", PASSWORD, address=address()).id == first.id
        secret = start_session(second, address="a", user_agent="b")
        raw, _token = create_api_token(second.id, "pg")
        assert user_for_session(secret).id == second.id and user_for_token(raw).id == second.id
        disable_user(first.id, second.id)
        assert user_for_session(secret) is None and user_for_token(raw) is None
        with session_scope() as session:
            assert session.exec(select(Product)).one().owner_id == first.id
    finally:
        _engine_for(db_url).dispose()
        monkeypatch.undo()
        get_settings.cache_clear()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_concurrent_first_sign_ups_make_one_admin(fresh_db: str) -> None:
    import threading

    with session_scope() as session:
        session.add(Product(owner_id=get_settings().local_user, key="k", title="T"))
    barrier = threading.Barrier(4)
    made: list[User] = []

    def sign_up() -> None:
        barrier.wait()
        made.append(create_user(email("race"), PASSWORD))

    threads = [threading.Thread(target=sign_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(made) == 4
    admins = [u for u in made if u.is_admin]
    assert len(admins) == 1
    with session_scope() as session:
        assert session.exec(select(Product)).one().owner_id == admins[0].id

"""accounts: users, server-side sign-in sessions, API tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:50:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _when() -> sqlmodel.sql.sqltypes.UTCDateTime:
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", _string(32), nullable=False),
        sa.Column("email", _string(254), nullable=False),
        sa.Column("password_hash", _string(255), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("last_sign_in_at", _when(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_account_email", "user_account", ["email"], unique=True)

    op.create_table(
        "signin_session",
        sa.Column("id", _string(64), nullable=False),
        sa.Column("user_id", _string(32), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("address", _string(64), nullable=False),
        sa.Column("user_agent", _string(300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_session_user_id", "signin_session", ["user_id"])

    op.create_table(
        "api_token",
        sa.Column("id", _string(32), nullable=False),
        sa.Column("user_id", _string(32), nullable=False),
        sa.Column("name", _string(100), nullable=False),
        sa.Column("prefix", _string(16), nullable=False),
        sa.Column("token_hash", _string(64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=True),
        sa.Column("last_used_at", _when(), nullable=True),
        sa.Column("revoked_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_index("ix_api_token_token_hash", "api_token", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_api_token_token_hash", table_name="api_token")
    op.drop_index("ix_api_token_user_id", table_name="api_token")
    op.drop_table("api_token")
    op.drop_index("ix_signin_session_user_id", table_name="signin_session")
    op.drop_table("signin_session")
    op.drop_index("ix_user_account_email", table_name="user_account")
    op.drop_table("user_account")

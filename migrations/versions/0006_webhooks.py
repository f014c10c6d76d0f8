"""webhooks: endpoints, messages and the delivery log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 15:50:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _when() -> sqlmodel.sql.sqltypes.UTCDateTime:
    return sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "webhook",
        sa.Column("id", _string(32), nullable=False),
        sa.Column("owner_id", _string(64), nullable=False),
        sa.Column("url", _string(2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("description", _string(300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("secret", _string(100), nullable=False),
        sa.Column("previous_secret", _string(100), nullable=True),
        sa.Column("previous_secret_expires_at", _when(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("failing_since", _when(), nullable=True),
        sa.Column("disabled_reason", _string(300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_owner_id", "webhook", ["owner_id"])

    op.create_table(
        "webhook_message",
        sa.Column("id", _string(40), nullable=False),
        sa.Column("webhook_id", _string(32), nullable=False),
        sa.Column("owner_id", _string(64), nullable=False),
        sa.Column("event_type", _string(20), nullable=False),
        sa.Column("job_id", _string(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_message_webhook_id", "webhook_message", ["webhook_id"])

    op.create_table(
        "webhook_delivery",
        sa.Column("id", _string(32), nullable=False),
        sa.Column("message_id", _string(40), nullable=False),
        sa.Column("webhook_id", _string(32), nullable=False),
        sa.Column("owner_id", _string(64), nullable=False),
        sa.Column("event_type", _string(20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("trigger", _string(10), nullable=False),
        sa.Column("attempted_at", _when(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", _string(500), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("response_excerpt", _string(2048), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_delivery_message_id", "webhook_delivery", ["message_id"])
    op.create_index(
        "ix_webhook_delivery_webhook_at", "webhook_delivery", ["webhook_id", "attempted_at"]
    )
    op.create_index("ix_webhook_delivery_attempted_at", "webhook_delivery", ["attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_attempted_at", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_webhook_at", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_message_id", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_webhook_message_webhook_id", table_name="webhook_message")
    op.drop_table("webhook_message")
    op.drop_index("ix_webhook_owner_id", table_name="webhook")
    op.drop_table("webhook")

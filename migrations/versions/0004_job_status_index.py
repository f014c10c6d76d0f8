"""job status index: the watchdog and retention look up jobs by status, for every owner

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:10:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_status_created", "job", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_job_status_created", table_name="job")

"""job stats: a rollup per owner, hour and kind of how jobs ended and how long they took

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 16:00:00

Backfilled from the jobs already recorded, so the History page starts with the past.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OUTCOMES = ("completed", "failed", "cancelled")
BUCKETS = tuple(f"d{i:02d}" for i in range(17))


def upgrade() -> None:
    op.create_table(
        "job_stat",
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        *(sa.Column(n, sa.Integer(), nullable=False, server_default="0") for n in OUTCOMES),
        sa.Column("duration_sum", sa.Float(), nullable=False, server_default="0"),
        *(sa.Column(n, sa.Integer(), nullable=False, server_default="0") for n in BUCKETS),
        sa.PrimaryKeyConstraint("owner_id", "hour", "kind"),
    )
    op.create_index("ix_job_stat_hour", "job_stat", ["hour"])
    # The same code that rebuilds the rollup by hand (jobboard.core.stats.backfill).
    from jobboard.core.stats import BUCKETS as CURRENT, backfill

    assert CURRENT == BUCKETS, "the rollup's buckets changed: write a new migration"
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_job_stat_hour", table_name="job_stat")
    op.drop_table("job_stat")

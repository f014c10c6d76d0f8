"""job retry links: a retry names the job it reruns, and that job its retry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_of", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("retried_by", sa.String(length=36), nullable=True))
    # Retries made before this migration named their original in their params only.
    job = sa.table(
        "job",
        sa.column("id", sa.String),
        sa.column("params", sa.JSON),
        sa.column("retry_of", sa.String),
        sa.column("retried_by", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(job.c.id, job.c.params)).all()
    for job_id, params in rows:
        original = (params or {}).get("retry_of") if isinstance(params, dict) else None
        if isinstance(original, str) and len(original) <= 36:
            conn.execute(job.update().where(job.c.id == job_id).values(retry_of=original))
            conn.execute(
                job.update()
                .where(job.c.id == original, job.c.retried_by.is_(None))
                .values(retried_by=job_id)
            )


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("retried_by")
        batch_op.drop_column("retry_of")

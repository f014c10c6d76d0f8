"""tasks at scale: keyset indexes, per-owner job counts kept by triggers, title search

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 15:40:00

- The Tasks list pages by (created_at, id) under each filter: its indexes end in that key.
- `job_count` holds how many jobs each owner has per (status, kind); triggers on `job` keep it,
  so totals and the active-jobs badge read a handful of rows instead of counting a million.
- Title search: SQLite FTS5 (external content on `job`: title plus status and kind, so a
  filtered search is one index query; rowid order = insertion order), PostgreSQL a stored
  generated `title_tsv` column (PostgreSQL only: the model does not name it) with a GIN index.

NB on SQLite: a later batch migration that rebuilds `job` drops its triggers; such a migration
must create them again (call `_sqlite_triggers`).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEYSET_INDEXES = {
    "ix_job_owner_created": ["owner_id", "created_at", "id"],
    "ix_job_owner_status_created": ["owner_id", "status", "created_at", "id"],
    "ix_job_owner_kind_created": ["owner_id", "kind", "created_at", "id"],
    "ix_job_owner_status_kind_created": ["owner_id", "status", "kind", "created_at", "id"],
}
# Queue positions ("starts in about 40 s") read the last completed jobs of a kind.
RECENT_INDEX = ("ix_job_kind_status_completed", ["kind", "status", "completed_at"])
OLD_INDEXES = {
    "ix_job_owner_created": ["owner_id", "created_at"],
    "ix_job_owner_status_created": ["owner_id", "status", "created_at"],
    "ix_job_owner_kind_created": ["owner_id", "kind", "created_at"],
}
# Title words as `jobboard.core.joblist.search_terms` makes them: file names split at _ . - / …
# Plus a status and a kind lexeme, so the GIN index also answers a search's filters (the
# planner otherwise walks every failed job of the account to find "shop" among them).
TITLE_TSV_PG = (
    "to_tsvector('simple', translate(title, '_.-/\\:;,+&|()[]', '               ')) || "
    "to_tsvector('simple', 'zzstatus' || status || ' zzkind' || replace(kind, '_', ''))"
)

SQLITE_TRIGGERS = (
    """CREATE TRIGGER job_count_ai AFTER INSERT ON job BEGIN
        INSERT INTO job_count (owner_id, status, kind, n) VALUES (new.owner_id, new.status,
            new.kind, 1)
        ON CONFLICT (owner_id, status, kind) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER job_count_ad AFTER DELETE ON job BEGIN
        UPDATE job_count SET n = n - 1
        WHERE owner_id = old.owner_id AND status = old.status AND kind = old.kind;
    END""",
    """CREATE TRIGGER job_count_au AFTER UPDATE OF owner_id, status, kind ON job
    WHEN old.owner_id IS NOT new.owner_id OR old.status IS NOT new.status
        OR old.kind IS NOT new.kind
    BEGIN
        UPDATE job_count SET n = n - 1
        WHERE owner_id = old.owner_id AND status = old.status AND kind = old.kind;
        INSERT INTO job_count (owner_id, status, kind, n) VALUES (new.owner_id, new.status,
            new.kind, 1)
        ON CONFLICT (owner_id, status, kind) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER job_fts_ai AFTER INSERT ON job BEGIN
        INSERT INTO job_fts (rowid, title, owner_id, status, kind)
        VALUES (new.rowid, new.title, new.owner_id, new.status, new.kind);
    END""",
    """CREATE TRIGGER job_fts_ad AFTER DELETE ON job BEGIN
        INSERT INTO job_fts (job_fts, rowid, title, owner_id, status, kind)
        VALUES ('delete', old.rowid, old.title, old.owner_id, old.status, old.kind);
    END""",
    """CREATE TRIGGER job_fts_au AFTER UPDATE OF title, owner_id, status, kind ON job
    WHEN old.title IS NOT new.title OR old.owner_id IS NOT new.owner_id
        OR old.status IS NOT new.status OR old.kind IS NOT new.kind
    BEGIN
        INSERT INTO job_fts (job_fts, rowid, title, owner_id, status, kind)
        VALUES ('delete', old.rowid, old.title, old.owner_id, old.status, old.kind);
        INSERT INTO job_fts (rowid, title, owner_id, status, kind)
        VALUES (new.rowid, new.title, new.owner_id, new.status, new.kind);
    END""",
)
SQLITE_TRIGGER_NAMES = ("job_count_ai", "job_count_ad", "job_count_au")
SQLITE_TRIGGER_NAMES += ("job_fts_ai", "job_fts_ad", "job_fts_au")

PG_COUNT_FUNCTION = """
CREATE FUNCTION job_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE job_count SET n = n - 1
        WHERE owner_id = OLD.owner_id AND status = OLD.status AND kind = OLD.kind;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO job_count (owner_id, status, kind, n)
        VALUES (NEW.owner_id, NEW.status, NEW.kind, 1)
        ON CONFLICT (owner_id, status, kind) DO UPDATE SET n = job_count.n + 1;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER job_count_ins AFTER INSERT ON job FOR EACH ROW EXECUTE FUNCTION "
    "job_count_keep()",
    "CREATE TRIGGER job_count_del AFTER DELETE ON job FOR EACH ROW EXECUTE FUNCTION "
    "job_count_keep()",
    "CREATE TRIGGER job_count_upd AFTER UPDATE OF owner_id, status, kind ON job FOR EACH ROW "
    "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.kind IS DISTINCT FROM NEW.kind) EXECUTE FUNCTION job_count_keep()",
)


def _sqlite_triggers() -> None:
    for ddl in SQLITE_TRIGGERS:
        op.execute(ddl)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="job")
    for name, columns in KEYSET_INDEXES.items():
        op.create_index(name, "job", columns)
    op.create_index(RECENT_INDEX[0], "job", RECENT_INDEX[1])

    op.create_table(
        "job_count",
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "status", "kind"),
    )
    op.execute(
        "INSERT INTO job_count (owner_id, status, kind, n) "
        "SELECT owner_id, status, kind, count(*) FROM job GROUP BY owner_id, status, kind"
    )
    if sqlite:
        # unicode61 folds case and diacritics; "_", "." and "-" separate words in file names.
        # Status and kind are indexed too: a search with filters is one FTS query. The owner
        # is kept, not indexed: the query checks it on the joined job row.
        op.execute(
            "CREATE VIRTUAL TABLE job_fts USING fts5(title, owner_id UNINDEXED, status, kind, "
            "content='job', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO job_fts (job_fts) VALUES ('rebuild')")
        _sqlite_triggers()
    else:
        op.execute(PG_COUNT_FUNCTION)
        for ddl in PG_TRIGGERS:
            op.execute(ddl)
        # Stored, so a row the planner checks one by one (owner's newest first) costs a read,
        # not a to_tsvector() of its title.
        op.execute(
            f"ALTER TABLE job ADD COLUMN title_tsv tsvector GENERATED ALWAYS AS ({TITLE_TSV_PG}) "
            "STORED"
        )
        op.execute("CREATE INDEX ix_job_title_search ON job USING gin (title_tsv)")
        op.execute("ANALYZE job")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS job_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_job_title_search")
        op.execute("ALTER TABLE job DROP COLUMN IF EXISTS title_tsv")
        for name in ("job_count_ins", "job_count_del", "job_count_upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON job")
        op.execute("DROP FUNCTION IF EXISTS job_count_keep()")
    op.drop_table("job_count")
    op.drop_index(RECENT_INDEX[0], table_name="job")
    for name in KEYSET_INDEXES:
        op.drop_index(name, table_name="job")
    for name, columns in OLD_INDEXES.items():
        op.create_index(name, "job", columns)

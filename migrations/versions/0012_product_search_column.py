"""product search column (PostgreSQL): the search vector stored with each product

A generated `search_tsv` column holds what the GIN index of 0010 computed from title and SKU,
and the index moves onto it. Searches that test rows one by one (walking the sort order's
index when thousands match, re-checking a bitmap's pages) then read a stored value instead
of running `regexp_replace` and `to_tsvector` per row. Adding the column rewrites the product
table once (about 30 s for a million products). SQLite keeps its FTS5 table: nothing to do.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 22:20:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The same words as 0010's index: punctuation splits ("SKU-0424242" is "sku 0424242").
PG_SEARCH = (
    "to_tsvector('simple', regexp_replace("
    "coalesce(title, '') || ' ' || coalesce(sku, ''), '[[:punct:]]+', ' ', 'g'))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE product ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({PG_SEARCH}) "
        "STORED"
    )
    op.execute("DROP INDEX IF EXISTS ix_product_search")
    op.execute("CREATE INDEX ix_product_search_tsv ON product USING gin (search_tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_product_search_tsv")
    op.execute("ALTER TABLE product DROP COLUMN IF EXISTS search_tsv")
    op.execute(f"CREATE INDEX ix_product_search ON product USING gin ({PG_SEARCH})")

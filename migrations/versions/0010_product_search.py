"""product search, filters and sorts

Full-text search over title and SKU (SQLite: an FTS5 external-content table kept by triggers;
PostgreSQL: a GIN index on a `simple` tsvector), and (owner, column) indexes for the filters
and sorts of the Products page.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 15:45:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (name, columns): the Products page filters by these (newest first) and sorts by title/price.
INDEXES = (
    ("ix_product_owner_vendor", ["owner_id", "vendor", "updated_at"]),
    ("ix_product_owner_type", ["owner_id", "product_type", "updated_at"]),
    ("ix_product_owner_category", ["owner_id", "category", "updated_at"]),
    ("ix_product_owner_title", ["owner_id", "title"]),
    ("ix_product_owner_price", ["owner_id", "price"]),
)

SQLITE_UP = [
    "CREATE VIRTUAL TABLE product_fts USING fts5("
    "title, sku, content='product', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER product_fts_ai AFTER INSERT ON product BEGIN "
    "INSERT INTO product_fts(rowid, title, sku) VALUES (new.id, new.title, coalesce(new.sku, '')); "
    "END",
    "CREATE TRIGGER product_fts_ad AFTER DELETE ON product BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, title, sku) "
    "VALUES ('delete', old.id, old.title, coalesce(old.sku, '')); END",
    # Only when the searched text changes: the upsert rewrites every column of every row.
    "CREATE TRIGGER product_fts_au AFTER UPDATE OF title, sku ON product "
    "WHEN old.title IS NOT new.title OR old.sku IS NOT new.sku BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, title, sku) "
    "VALUES ('delete', old.id, old.title, coalesce(old.sku, '')); "
    "INSERT INTO product_fts(rowid, title, sku) VALUES (new.id, new.title, coalesce(new.sku, '')); "
    "END",
    "INSERT INTO product_fts(product_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS product_fts_au",
    "DROP TRIGGER IF EXISTS product_fts_ad",
    "DROP TRIGGER IF EXISTS product_fts_ai",
    "DROP TABLE IF EXISTS product_fts",
]
PG_SEARCH = (
    "to_tsvector('simple', regexp_replace("
    "coalesce(title, '') || ' ' || coalesce(sku, ''), '[[:punct:]]+', ' ', 'g'))"
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "product", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_product_search ON product USING gin ({PG_SEARCH})")
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_product_search")
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="product")

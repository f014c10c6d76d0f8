"""Searching, filtering and sorting the catalog, and the "scope" jobs run over.

A scope is either a list of product ids or a filter (search words + vendor / type / category).
Jobs carry the filter itself, never ids the browser collected, and resolve it for the job's
owner when they run, so "select all 617 matching" costs one small message however large the
match.

Search uses the database's own full-text index (migration 0010): SQLite FTS5 over title and
SKU (``product_fts``, kept by triggers), PostgreSQL a GIN index on a stored ``simple``
tsvector of the same text (``search_tsv``, migration 0012). Both are queried by word
prefixes: every word typed must start a word of the title or SKU ("blue t" finds "Blue
T-Shirt"). Words typed joined by punctuation are a code ("ai-1", "SKU-0424242") and match as
a phrase: whole words in that order, the last one a prefix ("ai-1" finds SKU "AI-1" and
"AI-12", "ai-" too; "a-1" does not find "AI-1"). A prefix of a word that is in almost every
product ("sku") would make the index read every product; a phrase seeks instead. Only
letters and digits count as words, so no input can reach either query language.

A search is paged by the size of its match set (see `search_products`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, text
from sqlmodel import col, select

from jobboard.core.db import get_engine, session_scope
from jobboard.core.models import FIELD_LIMITS, Product

MAX_QUERY_CHARS = 200
MAX_WORDS = 8
FACET_LIMIT = 200  # distinct vendors / types / categories offered per filter
# The Products page counts up to these ("more than 10,000 products" beyond): an exact count
# of a million rows costs more than the page. With search words every match is checked
# against its product row, so a search counts to 1,000 (as the Tasks page's search does).
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000
# SQLite: a search whose words match at most this many products (all owners) reads and sorts
# them; past it the page walks the sort's index instead (measured: bench/products_scale.py).
SORT_ALL_MAX = 5_000
# PostgreSQL: the same for the owner's matches (filters included), counted through the GIN
# index; the count doubles as the page's total (SEARCH_COUNT_CAP).
PG_SORT_ALL_MAX = 1_000
SORTS: dict[str, str] = {
    "updated": "Recently updated",
    "title": "Title A–Z",
    "price": "Price, low to high",
    "price_desc": "Price, high to low",
}
DEFAULT_SORT = "updated"
FILTER_FIELDS = ("vendor", "product_type", "category")
# PostgreSQL: the stored search vector of title and SKU (migration 0012), GIN-indexed.
PG_SEARCH_EXPR = "product.search_tsv"

_WORD = re.compile(r"[^\W_]+")  # letters and digits: both indexes split on the rest


class BadFilter(ValueError):
    """A filter value that cannot be used; the message is for the user."""


@dataclass(frozen=True)
class ProductFilter:
    """Which products: search words and exact vendor / type / category ("" = any)."""

    q: str = ""
    vendor: str = ""
    product_type: str = ""
    category: str = ""

    @property
    def empty(self) -> bool:
        return not (self.q or self.vendor or self.product_type or self.category)

    def as_params(self) -> dict[str, str]:
        """The non-empty parts, as stored in a job's params."""
        return {k: v for k, v in asdict(self).items() if v}

    def words(self) -> list[str]:
        return [w for group in self.groups() for w in group]

    def groups(self) -> list[list[str]]:
        """The words typed, split at spaces; each group its words split at punctuation (at
        most MAX_WORDS words in all)."""
        out: list[list[str]] = []
        left = MAX_WORDS
        for chunk in self.q.casefold().split():
            words = _WORD.findall(chunk)[:left]
            if words:
                out.append(words)
                left -= len(words)
            if left <= 0:
                break
        return out

    def describe(self) -> str:
        """A short human description: 'matching “shirt”, vendor Acme'."""
        parts = []
        if self.q:
            parts.append(f"matching “{self.q}”")
        for name, label in (
            ("vendor", "vendor"),
            ("product_type", "type"),
            ("category", "category"),
        ):
            value = getattr(self, name)
            if value:
                parts.append(f"{label} {value}")
        return ", ".join(parts)


def parse_filter(raw: Mapping[str, Any] | None) -> ProductFilter:
    """A filter from untrusted input (URL, job params, API); BadFilter says what is wrong."""
    if raw is None:
        return ProductFilter()
    if not isinstance(raw, Mapping):
        raise BadFilter(
            "the product filter must be an object with q, vendor, product_type, category"
        )
    unknown = set(raw) - {"q", *FILTER_FIELDS}
    if unknown:
        raise BadFilter(f"unknown product filter field(s): {', '.join(sorted(map(str, unknown)))}")
    values: dict[str, str] = {}
    for name in ("q", *FILTER_FIELDS):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadFilter(f"the product filter's {name} must be text")
        if "\x00" in value:
            raise BadFilter(f"the product filter's {name} contains a NUL character")
        value = " ".join(value.split()) if name == "q" else value.strip()
        limit = MAX_QUERY_CHARS if name == "q" else FIELD_LIMITS[name]
        if len(value) > limit:
            raise BadFilter(f"the product filter's {name} is longer than {limit} characters")
        values[name] = value
    return ProductFilter(**values)


def count_cap(flt: ProductFilter) -> int:
    """Up to how many the Products page counts the products a filter matches."""
    return SEARCH_COUNT_CAP if flt.q else COUNT_CAP


def parse_sort(value: str | None) -> str:
    return value if value in SORTS else DEFAULT_SORT


def _fts_query(groups: list[list[str]]) -> str:
    # Each group as one quoted FTS5 phrase, its last word a prefix: no operator can be
    # smuggled in (the words are letters and digits only).
    return " ".join(f'"{" ".join(g)}"*' for g in groups)


def _pg_tsquery(groups: list[list[str]], prefix: bool = True) -> str:
    """Each group a phrase, its last word a prefix (or, `prefix=False`, the word itself)."""
    last = ":*" if prefix else ""
    return " & ".join("(" + " <-> ".join([*g[:-1], f"{g[-1]}{last}"]) + ")" for g in groups)


def conditions(
    owner_id: str, flt: ProductFilter, *, probe: bool = False, prefix: bool = True
) -> list[ColumnElement[bool]]:
    """WHERE terms for the owner's products that match the filter (`prefix=False`: only
    whole words, on PostgreSQL — a subset of the matches, found faster)."""
    terms: list[ColumnElement[bool]] = [col(Product.owner_id) == owner_id]
    for name in FILTER_FIELDS:
        value = getattr(flt, name)
        if value:
            terms.append(getattr(Product, name) == value)
    if flt.q:
        groups = flt.groups()
        if not groups:  # only punctuation: nothing can match
            terms.append(literal_column("1") == 0)
        elif get_engine().dialect.name == "postgresql":
            terms.append(
                text(f"{PG_SEARCH_EXPR} @@ to_tsquery('simple', :search_q)").bindparams(
                    search_q=_pg_tsquery(groups, prefix)
                )
            )
        else:
            # "+" keeps SQLite from driving the query from this list when `probe` asks for
            # an index walk that tests each row against it (see search_products).
            matching = (
                f"{'+' if probe else ''}product.id IN "
                "(SELECT rowid FROM product_fts WHERE product_fts MATCH :search_q)"
            )
            terms.append(text(matching).bindparams(search_q=_fts_query(groups)))
    return terms


def _order(sort: str, by_search: bool = False) -> list[Any]:
    """ORDER BY terms; `by_search` (PostgreSQL with a search) hides the column order from the
    planner, which otherwise walks an (owner, column) index hoping to meet matches early and
    reads the whole catalog when the words are rare; the GIN index then finds the matches
    and only those are sorted."""
    updated, title, price = col(Product.updated_at), col(Product.title), col(Product.price)
    if by_search:
        updated = func.greatest(updated, updated)  # type: ignore[assignment]
        title = func.concat(title, "")  # type: ignore[assignment]
        price = price + 0  # type: ignore[assignment]
    if sort == "title":
        return [title, col(Product.id)]
    if sort == "price":
        return [price, col(Product.id)]
    if sort == "price_desc":
        return [price.desc(), col(Product.id).desc()]
    return [updated.desc(), col(Product.id).desc()]


def _page(
    session: Any, where: list[Any], sort: str, offset: int, limit: int, by_search: bool = False
) -> list[Product]:
    query = select(Product).where(*where).order_by(*_order(sort, by_search))
    return list(session.exec(query.offset(offset).limit(limit)).all())


def _price_page(
    session: Any, where: list[Any], sort: str, offset: int, limit: int, by_search: bool = False
) -> list[Product]:
    """Priced products by price, then the unpriced ones — on both databases.

    The databases disagree where NULL sorts, and "NULLS LAST" would cost the (owner, price)
    index its use; so priced rows come from the index and unpriced rows are appended. Their
    count is needed only on the page where the priced rows run out.
    """
    priced = [*where, col(Product.price).is_not(None)]
    rows = _page(session, priced, sort, offset, limit, by_search)
    if len(rows) == limit:
        return rows
    if rows:
        start = 0
    else:
        counted = select(func.count()).select_from(Product).where(*priced)
        start = offset - int(session.exec(counted).one())
    unpriced = [*where, col(Product.price).is_(None)]
    return rows + _page(session, unpriced, "title", max(0, start), limit - len(rows), by_search)


def _sqlite_fts_count(session: Any, flt: ProductFilter, cap: int) -> int:
    """How many products of every owner the search words match, counted up to `cap`."""
    sql = text(
        "SELECT count(*) FROM (SELECT rowid FROM product_fts WHERE product_fts MATCH :q LIMIT :cap)"
    )
    return int(
        session.connection().execute(sql, {"q": _fts_query(flt.groups()), "cap": cap}).one()[0]
    )


def _sqlite_search_count(session: Any, owner_id: str, flt: ProductFilter, cap: int | None) -> int:
    """Matches of a search with no other filter (at most `cap + 1` when capped): the full-text
    index's matches are read in order and each checked for its owner, stopping at the cap
    (the IN form copies every match of every owner into a temporary list first)."""
    sql = text(
        "SELECT count(*) FROM (SELECT 1 FROM product_fts CROSS JOIN product "
        "ON product.id = product_fts.rowid WHERE product_fts MATCH :q "
        "AND product.owner_id = :owner LIMIT :cap)"
    )
    params = {
        "q": _fts_query(flt.groups()),
        "owner": owner_id,
        "cap": -1 if cap is None else cap + 1,
    }
    return int(session.connection().execute(sql, params).one()[0])


@contextmanager
def _planner_off(session: Any, setting: str) -> Iterator[None]:
    """PostgreSQL's planner without one kind of scan (`enable_indexscan`, …) for the
    statements of the block, in this transaction only. Not turned back on after an error:
    the transaction is rolled back then, and SET LOCAL with it (a SET in an aborted
    transaction would only raise again and hide the first error)."""
    connection = session.connection()
    connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    yield
    connection.exec_driver_sql(f"SET LOCAL {setting} = on")


def _pg_matches(session: Any, owner_id: str, flt: ProductFilter, cap: int) -> list[int] | None:
    """The ids of the owner's matches, up to `cap` of them, found through the GIN index; None
    when the search's whole words alone match `cap` or more (then so does the search).

    PostgreSQL estimates every prefix search at 2 % of the rows (measured at 1M products),
    rare or common, so its planner cannot tell a common word from a typo; with plain index
    scans off for these statements it builds the GIN index's bitmap of matches (small for a
    rare word) and stops reading rows at the cap. Whole words are counted first: their
    posting lists are read directly (a prefix collects every match into a bitmap first,
    ≈ 4 times slower for a word in 5 % of the catalog), and as whole-word matches are a
    subset of the prefix matches, reaching the cap with them settles it. Otherwise the ids
    come back, so the page sorts just those instead of building the bitmap again.
    """

    def matching(prefix: bool) -> Any:
        return select(Product.id).where(*conditions(owner_id, flt, prefix=prefix)).limit(cap)

    with _planner_off(session, "enable_indexscan"):
        # With a vendor / type / category too, the filter's own index narrows the bitmap and
        # a second probe would cost more than it saves.
        if not any(getattr(flt, name) for name in FILTER_FIELDS):
            counted = select(func.count()).select_from(matching(prefix=False).subquery())
            if int(session.exec(counted).one()) >= cap:
                return None
        return list(session.exec(matching(prefix=True)).all())


def search_products(
    owner_id: str,
    flt: ProductFilter,
    *,
    sort: str = DEFAULT_SORT,
    offset: int = 0,
    limit: int = 25,
    with_total: bool = True,
    count_cap: int | None = None,
) -> tuple[list[Product], int]:
    """One page of the owner's products matching the filter, and how many match.

    With `count_cap`, counting stops past that many (the total is then `count_cap + 1`):
    an exact count of a million rows costs more than the page itself.

    SQLite, with search words: when the full-text index matches at most SORT_ALL_MAX
    products (of any owner) they are read and sorted, as the page asks; when it matches
    more, the query walks the (owner, sort column) index in the page's order instead and
    tests each product against the match list, so it stops after one page rather than
    reading and sorting tens of thousands of matches. PostgreSQL: the same, with the owner's
    matches found through the GIN index (see `_pg_matches`).
    """
    sort = parse_sort(sort)
    groups = flt.groups()
    dialect = get_engine().dialect.name
    probed: int | None = None  # PostgreSQL: the owner's matches, counted to PG_SORT_ALL_MAX + 1
    found: list[int] | None = None  # PostgreSQL: their ids, when at most PG_SORT_ALL_MAX
    with session_scope() as session:
        if not groups:
            many = False
        elif dialect == "sqlite":
            many = _sqlite_fts_count(session, flt, SORT_ALL_MAX + 1) > SORT_ALL_MAX
        else:
            found = _pg_matches(session, owner_id, flt, PG_SORT_ALL_MAX + 1)
            probed = PG_SORT_ALL_MAX + 1 if found is None else len(found)
            many = probed > PG_SORT_ALL_MAX
        by_search = bool(groups) and dialect == "postgresql" and not many
        if by_search:
            # The few matches are known (owner and filters applied): sort just those.
            where = [col(Product.id).in_(found or [-1])]
        else:
            where = conditions(owner_id, flt, probe=many and dialect == "sqlite")
        # PostgreSQL, more than PG_SORT_ALL_MAX matches: walk the sort's index and test each
        # row's stored vector, stopping after one page; its planner would rather build the
        # bitmap of every match again (tens of ms for a common word) and sort it.
        walk = many and dialect == "postgresql"
        with _planner_off(session, "enable_bitmapscan") if walk else nullcontext():
            if sort in ("price", "price_desc"):
                rows = _price_page(session, where, sort, offset, limit, by_search)
            else:
                rows = _page(session, where, sort, offset, limit, by_search)
        if not with_total:
            total = -1
        elif probed is not None and (not many or (count_cap or probed) < probed):
            # The probe counted every match of the owner (filters included) up to its cap.
            total = probed if count_cap is None or probed <= count_cap else count_cap + 1
        elif many and dialect == "sqlite" and not flt.as_params().keys() - {"q"}:
            total = _sqlite_search_count(session, owner_id, flt, count_cap)
        else:  # many matches with a filter: that filter's (owner, field) index is walked
            total = count_matching(owner_id, flt, session=session, cap=count_cap, probe=many)
    return rows, total


def count_matching(
    owner_id: str,
    flt: ProductFilter,
    *,
    session: Any = None,
    cap: int | None = None,
    probe: bool = False,
) -> int:
    """How many products match (at most `cap + 1` when capped); `probe`: see `conditions`."""
    where = conditions(owner_id, flt, probe=probe)
    if cap is None:
        query = select(func.count()).select_from(Product).where(*where)
    else:
        inner = select(Product.id).where(*where).limit(cap + 1).subquery()
        query = select(func.count()).select_from(inner)
    if session is not None:
        return int(session.exec(query).one())
    with session_scope() as own:
        return int(own.exec(query).one())


def matching_products(owner_id: str, flt: ProductFilter, chunk: int = 2000) -> Iterator[Product]:
    """Every matching product, oldest first, read in chunks (keyset on id)."""
    where = conditions(owner_id, flt)
    after = 0
    while True:
        with session_scope() as session:
            batch = list(
                session.exec(
                    select(Product)
                    .where(*where, col(Product.id) > after)
                    .order_by(col(Product.id))
                    .limit(chunk)
                ).all()
            )
        yield from batch
        if len(batch) < chunk:
            return
        after = batch[-1].id or 0


def matching_ids(owner_id: str, flt: ProductFilter, limit: int | None = None) -> list[int]:
    """Ids of the matching products, oldest first (at most `limit`)."""
    query = select(Product.id).where(*conditions(owner_id, flt)).order_by(col(Product.id))
    if limit is not None:
        query = query.limit(limit)
    with session_scope() as session:
        return [int(r) for r in session.exec(query).all()]


def facet_values(owner_id: str, field: str, limit: int = FACET_LIMIT) -> list[str]:
    """Distinct non-empty values of vendor / product_type / category, A–Z.

    A loose index scan (one index probe per distinct value) instead of a DISTINCT over every
    product, so a million products with 200 vendors cost 200 probes.
    """
    if field not in FILTER_FIELDS:
        raise ValueError(field)
    sql = text(
        f"""
        WITH RECURSIVE v(x, n) AS (
            SELECT (SELECT min({field}) FROM product WHERE owner_id = :owner AND {field} > ''), 1
            UNION ALL
            SELECT (SELECT min({field}) FROM product WHERE owner_id = :owner AND {field} > v.x),
                   n + 1
            FROM v WHERE v.x IS NOT NULL AND n < :limit
        )
        SELECT x FROM v WHERE x IS NOT NULL
        """
    )
    with session_scope() as session:
        return [
            str(r[0])
            for r in session.connection().execute(sql, {"owner": owner_id, "limit": limit})
        ]

"""The Tasks list at scale: keyset pages, counts without counting, title search.

- Pages go newest first by the key (created_at, id); "older" and "newer" seek from a cursor,
  so page 50,000 costs what page 1 costs (OFFSET would walk every row before it).
- Totals come from `job_count` (kept by triggers, migration 0008): a few rows, not a million.
  A search's total is counted up to SEARCH_COUNT_CAP, then shown as "more than N".
- Search: SQLite FTS5 (`job_fts`, whose rowid is the job's rowid: insertion order, which is
  the order of `created_at` up to the same instant) or PostgreSQL's `tsvector` GIN index.
  The user's words (letters and digits; file names split at "_", ".", "-") match whole words
  of the title, case-insensitively; each is quoted, so no FTS operator reaches the engine.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, text
from sqlmodel import Session, col, select

from jobboard.core.db import get_engine, session_scope
from jobboard.core.models import Job, JobCount, JobStatus

SEARCH_MAX_CHARS = 200  # longer input is refused with a message (UI and API)
SEARCH_MAX_TERMS = 8
SEARCH_TERM_CHARS = 64
SEARCH_COUNT_CAP = 1000
MAX_OFFSET = 10_000  # page numbers without a cursor (old links, REST `page`) stop here


class ListError(ValueError):
    """Input the list cannot use (a bad cursor, an unusable search); the message is for users."""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str
    rowid: int | None = None  # SQLite search pages by rowid

    def encode(self) -> str:
        raw = {"t": self.created_at.isoformat(), "i": self.id}
        if self.rowid is not None:
            raw["r"] = self.rowid
        return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        bad = ListError("that page link is not valid any more; start from the newest jobs")
        if not token or len(token) > 400:
            raise bad
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            when = datetime.fromisoformat(raw["t"])
            job_id, rowid = raw["i"], raw.get("r")
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise bad from None
        if not isinstance(job_id, str) or len(job_id) > 64:
            raise bad
        if rowid is not None and (not isinstance(rowid, int) or isinstance(rowid, bool)):
            raise bad
        if when.utcoffset() is None:
            when = when.replace(tzinfo=UTC)
        return cls(when, job_id, rowid)


@dataclass
class JobPage:
    """One page of jobs, where it is, and links to its neighbours (cursor tokens)."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    total_exact: bool = True
    # How `total` was found: "exact"; "at_least" (a search counted up to SEARCH_COUNT_CAP);
    # "about" (PostgreSQL's estimate for a search: counting every match could take seconds).
    total_is: str = "exact"
    older: str | None = None  # cursor for the next page (older jobs), None at the end
    newer: str | None = None  # cursor for the previous page (newer jobs), None at the start


def search_terms(q: str) -> list[str]:
    """The words of a search: letters and digits only (so no quote or operator reaches the
    engine), lowercased, at most SEARCH_MAX_TERMS of at most SEARCH_TERM_CHARS each."""
    if len(q) > SEARCH_MAX_CHARS:
        raise ListError(f"search for at most {SEARCH_MAX_CHARS} characters")
    words = [w.lower()[:SEARCH_TERM_CHARS] for w in re.findall(r"[^\W_]+", q)]
    if q.strip() and not words:
        raise ListError("search for letters or digits (a word of the title or file name)")
    return list(dict.fromkeys(words))[:SEARCH_MAX_TERMS]


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts5_query(words: list[str], filters: dict[str, str]) -> str:
    """An FTS5 query: the filters and each word, all as quoted whole terms.

    Whole words, not prefixes: FTS5 merges every term of a prefix into one list before it
    can stop, which for a word in every title costs a full scan; whole terms stop after a page.
    The owner is checked on the joined row, not in the index: intersecting with a million-entry
    owner list cost 10x more than the few rows of other accounts it saves (bench/tasks_scale).
    """
    parts = [f"{name} : {_quoted(value)}" for name, value in filters.items()]
    parts.append("title : (" + " AND ".join(_quoted(w) for w in words) + ")")
    return " AND ".join(parts)


def _tsquery(words: list[str], filters: dict[str, str]) -> str:
    """Words are letters and digits only; quoting them keeps the tsquery parser literal.
    Filters become the status / kind lexemes `title_tsv` holds (migration 0008)."""
    terms = list(words)
    if "status" in filters:
        terms.append("zzstatus" + filters["status"])
    if "kind" in filters:
        terms.append("zzkind" + filters["kind"].replace("_", ""))
    return " & ".join(f"'{t}'" for t in terms)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def count_jobs(
    owner_id: str, *, status: str | None = None, kind: str | None = None, statuses: Any = None
) -> int:
    """How many of the owner's jobs match, from `job_count` (no row is counted)."""
    conditions = [JobCount.owner_id == owner_id]
    if status:
        conditions.append(JobCount.status == status)
    if statuses:
        conditions.append(col(JobCount.status).in_(statuses))
    if kind:
        conditions.append(JobCount.kind == kind)
    with session_scope() as session:
        total = session.exec(select(func.sum(JobCount.n)).where(*conditions)).one()
    return int(total or 0)


def count_active(owner_id: str, *, kind: str | None = None) -> int:
    return count_jobs(owner_id, kind=kind, statuses=JobStatus.ACTIVE)


def _after(key: Cursor, newer: bool) -> Any:
    """Rows strictly older (or newer) than the cursor, in a form that seeks the index:
    `created_at <= t` bounds the range, the rest only breaks ties at t."""
    t, i = key.created_at, key.id
    if newer:
        return and_(col(Job.created_at) >= t, or_(col(Job.created_at) > t, col(Job.id) > i))
    return and_(col(Job.created_at) <= t, or_(col(Job.created_at) < t, col(Job.id) < i))


def _sqlite_search(
    session: Session,
    owner_id: str,
    words: list[str],
    filters: dict[str, str],
    key: Cursor | None,
    newer: bool,
    limit: int,
) -> tuple[list[tuple[Job, int]], int]:
    """Search through FTS5, driving the join from the index in rowid order (CROSS JOIN keeps
    that order), so a common word stops after one page instead of collecting every match."""
    where = ["job_fts MATCH :fts", "job.owner_id = :owner"]
    params: dict[str, Any] = {"fts": _fts5_query(words, filters), "owner": owner_id}
    for name, value in filters.items():
        where.append(f"job.{name} = :{name}")
        params[name] = value
    base = "FROM job_fts CROSS JOIN job ON job.rowid = job_fts.rowid WHERE " + " AND ".join(where)
    count = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 {base} LIMIT {SEARCH_COUNT_CAP + 1})"), params
    ).scalar_one()
    if key is not None:
        if key.rowid is None:
            raise ListError("that page link is not valid any more; search again")
        base += " AND job_fts.rowid " + (">" if newer else "<") + " :rowid"
        params["rowid"] = key.rowid
    order = "ASC" if newer else "DESC"
    # Nothing of the owner's matches: no page to read (with 10M jobs in the table, the index
    # intersection of a rare combination alone costs ~20 ms; no need to do it twice).
    found = (
        session.execute(
            text(f"SELECT job.id, job_fts.rowid {base} ORDER BY job_fts.rowid {order} LIMIT :n"),
            params | {"n": limit + 1},
        ).all()
        if count
        else []
    )
    jobs = {
        j.id: j for j in session.exec(select(Job).where(col(Job.id).in_([f[0] for f in found])))
    }
    return [(jobs[job_id], rowid) for job_id, rowid in found if job_id in jobs], int(count)


def _pg_estimate(session: Session, query: Any) -> int:
    """PostgreSQL's own estimate of how many rows a query returns (EXPLAIN, nothing is run)."""
    compiled = query.compile(session.get_bind())
    connection = session.connection()
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    plan = plan.scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def list_page(
    owner_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    q: str = "",
    before: str | None = None,
    after: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> JobPage:
    """One page of the owner's jobs, newest first.

    `before` (a cursor): the page of older jobs; `after`: the page of newer jobs (when fewer
    than a page are newer, the first page). Neither: the first page, or `offset` rows in
    (at most MAX_OFFSET, for plain page numbers). Raises ListError for bad input.
    """
    from jobboard.core.jobs import _with_live  # the live overlay (jobs imports this module)

    words = search_terms(q) if q else []
    older_than = Cursor.decode(before) if before else None
    newer_than = Cursor.decode(after) if after else None
    if offset > MAX_OFFSET:
        raise ListError("that page is too far back: use Older from an earlier page")
    going_newer = newer_than is not None
    key = newer_than or older_than
    if key is not None:
        offset = 0
    filters = {name: value for name, value in (("status", status), ("kind", kind)) if value}
    total: int | None = None
    with Session(get_engine(), expire_on_commit=False) as session:
        by_rowid = bool(words) and _sqlite(session)
        if by_rowid:
            rows, total = _sqlite_search(
                session, owner_id, words, filters, key, going_newer, limit + offset
            )
            rows = rows[offset:]
        else:
            query = select(Job).where(
                Job.owner_id == owner_id, *(getattr(Job, n) == v for n, v in filters.items())
            )
            if words:
                tsq = text("job.title_tsv @@ to_tsquery('simple', :tsq)")
                query = query.where(tsq.bindparams(tsq=_tsquery(words, filters)))
                total = _pg_estimate(session, query)
            if key is not None:
                query = query.where(_after(key, going_newer))
            if going_newer:
                query = query.order_by(col(Job.created_at).asc(), col(Job.id).asc())
            else:
                query = query.order_by(col(Job.created_at).desc(), col(Job.id).desc())
            query = query.offset(offset).limit(limit + 1)
            rows = [(job, None) for job in session.exec(query).all()]
    if going_newer and len(rows) <= limit:
        # Fewer than a page of newer jobs: the user is back at the first page.
        return list_page(owner_id, status=status, kind=kind, q=q, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    if going_newer:
        rows.reverse()
    total_is = "exact"
    if total is None:
        total = count_jobs(owner_id, status=status, kind=kind)
    elif key is None and not more:
        total = offset + len(rows)  # the whole search is on this page: counted
    elif by_rowid and total > SEARCH_COUNT_CAP:
        total, total_is = SEARCH_COUNT_CAP, "at_least"
    elif not by_rowid:
        total, total_is = max(total, offset + len(rows) + int(more)), "about"
    exact = total_is == "exact"

    def cursor(pair: tuple[Job, int | None]) -> str:
        return Cursor(pair[0].created_at, pair[0].id, pair[1]).encode()

    page = JobPage(
        jobs=_with_live([job for job, _ in rows]),
        total=total,
        total_exact=exact,
        total_is=total_is,
    )
    if rows:
        has_older = more or going_newer
        has_newer = (more and going_newer) or older_than is not None or offset > 0
        page.older = cursor(rows[-1]) if has_older else None
        page.newer = cursor(rows[0]) if has_newer else None
    return page

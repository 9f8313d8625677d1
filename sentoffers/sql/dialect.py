"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, column, literal_column, select, table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_conflicts(conn: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's dialect."""
    return _insert(conn, table).on_conflict_do_nothing()


UpdateSpec = Iterable[str] | Mapping[str, Callable[[Any, Table], Any]]


def upsert_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], update: UpdateSpec
) -> None:
    """Insert ``rows``, or update the columns of ``update`` where the primary key exists.

    ``update`` names columns to take from the new row, or maps a column to a function of
    ``(excluded, table)`` building its new value. Conflicts are found through the primary
    key's index whatever the table's statistics say, so the cost per row stays flat.
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    if isinstance(update, Mapping):
        values = {name: make(stmt.excluded, table) for name, make in update.items()}
    else:
        values = {name: stmt.excluded[name] for name in update}
    keys = [column.name for column in table.primary_key.columns]
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values), list(rows))


_offers_search = table("offers_search", column("rowid"), column("search_text"))


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards taken literally (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def offer_text_matches(dialect: str, text: str, search_text: Any) -> ColumnElement[bool]:
    """Offers whose search text (feed, SKU, offer id, name) holds ``text``, through an index.

    PostgreSQL: LIKE served by the pg_trgm GIN index. SQLite: the FTS5 trigram table, asked
    with a quoted phrase (a substring match that takes every character literally); under
    three characters trigrams cannot help and the search text is scanned.
    """
    needle = text.strip().lower()
    pattern = f"%{escape_like(needle)}%"
    if dialect != "sqlite" or len(needle) < 3:
        matches: ColumnElement[bool] = search_text.like(pattern, escape="\\")
        return matches
    phrase = '"' + needle.replace('"', '""') + '"'
    matching = select(_offers_search.c.rowid).where(
        literal_column("offers_search").op("MATCH")(phrase)
    )
    return literal_column("offers.rowid").in_(matching)

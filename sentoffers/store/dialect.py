"""Statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(conn: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def upsert(conn: Connection, table: Table, keys: list[str], update: dict[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET update`` for the connection's dialect.

    ``update`` maps a column to an expression built from ``excluded`` by the caller through
    the callable returned here: values of the form ``lambda excluded, table: ...``.
    """
    stmt: Any
    stmt = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    values = {name: make(stmt.excluded, table) for name, make in update.items()}
    return stmt.on_conflict_do_update(index_elements=keys, set_=values)

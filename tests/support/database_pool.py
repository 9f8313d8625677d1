"""Migrated PostgreSQL databases lent to one test at a time.

Making a database from the template and dropping it costs about 100 ms of the server's time,
and a fresh database more still on its first connections (its caches are cold). A database
a test gives back is instead emptied to what the template holds (the seeded rows, written
again) and lent to the next test. One whose schema the test changed (a migration test going
down) is dropped, never lent again; a check of its tables, columns, indexes and migration
revision against the template's tells.
"""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
from psycopg import sql

from tests.support.postgres import PostgresServer

SCHEMA_FINGERPRINT = """
SELECT
    (SELECT string_agg(version_num, ',') FROM alembic_version),
    (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ','
        ORDER BY table_name, column_name)
     FROM information_schema.columns WHERE table_schema = 'public'),
    (SELECT string_agg(indexname, ',' ORDER BY indexname)
     FROM pg_indexes WHERE schemaname = 'public')
"""

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
ORDER BY c.relname
"""


class DatabasePool:
    """Databases of ``server`` made from ``template``, lent with ``take`` and returned with
    ``give_back``."""

    def __init__(self, server: PostgresServer, template: str) -> None:
        self.server = server
        self.template = template
        self._names = (f"test_{n}" for n in itertools.count())
        self._free: list[str] = []
        with psycopg.connect(server.libpq_url(template), autocommit=True) as conn:
            self._fingerprint = conn.execute(SCHEMA_FINGERPRINT).fetchone()
            self._tables = [row[0] for row in conn.execute(TABLES)]
            self._seeded = {
                table: self._rows(conn, table)
                for table in self._tables
                if conn.execute(
                    sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(table))
                ).fetchone()
                == (True,)
            }

    def take(self) -> str:
        if self._free:
            return self._free.pop()
        name = next(self._names)
        with psycopg.connect(self.server.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        return name

    def give_back(self, name: str) -> None:
        """Empty ``name`` back to the template's rows, or drop it if its schema changed."""
        try:
            self._empty(name)
        except (psycopg.Error, _SchemaChanged):
            self.server.drop_database(name)
            return
        self._free.append(name)

    def _empty(self, name: str) -> None:
        with psycopg.connect(self.server.libpq_url("postgres"), autocommit=True) as admin:
            # Sessions a test left open (a service it started) would hold locks.
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        with psycopg.connect(self.server.libpq_url(name)) as conn:
            if conn.execute(SCHEMA_FINGERPRINT).fetchone() != self._fingerprint:
                raise _SchemaChanged(name)
            # DELETE, not TRUNCATE, is the quick one on tables this small; with the
            # foreign keys' triggers off for this session, in any order.
            conn.execute("SET session_replication_role = replica")
            for table in self._tables:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for table, (columns, rows) in self._seeded.items():
                statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                )
                with conn.cursor() as cursor:
                    cursor.executemany(statement, rows)

    @staticmethod
    def _rows(conn: psycopg.Connection[Any], table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The rows of ``table``, without the columns the database computes itself."""
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
                (table,),
            )
        ]
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(table)
        )
        return columns, conn.execute(query).fetchall()


class _SchemaChanged(Exception):
    pass

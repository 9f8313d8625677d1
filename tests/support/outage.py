"""A store that can be taken away from a running app, and given back: an outage.

On SQLite the database's directory is moved away (a volume gone) and the pool's
connections are closed, so that the next query opens the file anew and fails. On
PostgreSQL the database stops taking connections and its sessions are ended, as when the
server restarts or fails over; the pool's pre-ping then finds its connections dead.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from sentoffers.sql.db import Database, create_db_engine
from tests.support.postgres import PostgresServer


class StoreOutage:
    """The database at ``url`` (``db`` on it), which ``take_away`` makes unusable and
    ``give_back`` restores. Use as a context manager: it gives the store back at the end."""

    def __init__(self, url: str, server: PostgresServer | None = None):
        self.url = url
        self._server = server
        self.db = Database(create_db_engine(url, pool_size=5))
        self.away = False

    @classmethod
    def of(cls, database_url: str, directory: Path, server: PostgresServer | None) -> StoreOutage:
        """An outage of the test's database: on SQLite, of a copy of it in ``directory``
        (a directory of its own, to be moved away); on PostgreSQL, of the database itself."""
        parsed = make_url(database_url)
        if parsed.get_backend_name() != "sqlite":
            assert server is not None, "a PostgreSQL outage needs its server"
            return cls(database_url, server)
        directory.mkdir(parents=True)
        shutil.copyfile(parsed.database or "", directory / "sentoffers.db")
        return cls(f"sqlite:///{directory / 'sentoffers.db'}")

    @property
    def _sqlite_directory(self) -> Path:
        return Path(make_url(self.url).database or "").parent

    @property
    def _moved(self) -> Path:
        return self._sqlite_directory.with_name(self._sqlite_directory.name + "-away")

    def take_away(self) -> None:
        if self._server is None:
            self._sqlite_directory.rename(self._moved)
            self.db.engine.dispose()
        else:
            self._allow_connections(False)
        self.away = True

    def give_back(self) -> None:
        if not self.away:
            return
        if self._server is None:
            self._moved.rename(self._sqlite_directory)
            self.db.engine.dispose()
        else:
            self._allow_connections(True)
        self.away = False

    def _allow_connections(self, allowed: bool) -> None:
        assert self._server is not None
        name = make_url(self.url).database or ""
        with psycopg.connect(self._server.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                    sql.Identifier(name), sql.Literal(allowed)
                )
            )
            if not allowed:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.give_back()
        self.db.dispose()

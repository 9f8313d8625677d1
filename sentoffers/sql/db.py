"""Engines and the unit of work.

SQLite runs in WAL mode; the writes of one process are serialized by a lock and begin
``IMMEDIATE``, so concurrent writers queue instead of failing on lock upgrades. PostgreSQL
writes lock the rows they change (``SELECT ... FOR UPDATE``) and run concurrently.

What a commit survives, per store:

- SQLite, ``synchronous=full`` (the default, ``SENTOFFERS_SQLITE_SYNCHRONOUS``): the WAL
  is synced to disk at every commit: a committed write survives a process crash and a
  power loss or kernel panic (given a disk that honours fsync).
- SQLite, ``synchronous=normal``: the WAL is synced only at checkpoints: a committed write
  survives a process crash, but a power loss may undo the last commits (the database stays
  consistent). Faster for many small commits.
- PostgreSQL: what its server is set to (``synchronous_commit``, ``fsync``, replication);
  with its defaults a commit is flushed to its WAL before it is acknowledged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, get_args

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

SqliteSynchronous = Literal["normal", "full"]


def create_db_engine(
    url: str, *, pool_size: int = 10, sqlite_synchronous: SqliteSynchronous = "full"
) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``);
    ``sqlite_synchronous`` is SQLite's durability (see the module's docstring)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_on_connect(sqlite_synchronous))
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)


def _sqlite_on_connect(
    synchronous: SqliteSynchronous,
) -> Callable[[Any, ConnectionPoolEntry], None]:
    if synchronous not in get_args(SqliteSynchronous):
        raise ValueError(f"SQLite synchronous must be normal or full, not {synchronous!r}")
    pragma = f"PRAGMA synchronous={synchronous.upper()}"

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN, so writes can begin IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(pragma)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return on_connect


def _sqlite_on_begin(connection: Connection) -> None:
    statement = connection.get_execution_options().get("sqlite_begin", "BEGIN")
    connection.exec_driver_sql(statement)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """The engine plus what the units of work of one process share."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._write_lock = threading.Lock() if self.sqlite else None

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self, write=write)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """A transaction that rolls back unless ``commit()`` is called.

    Usage::

        with db.unit_of_work() as uow:
            ...  # uow.conn
            uow.commit()
    """

    def __init__(self, database: Database, *, write: bool):
        self._database = database
        self._write = write
        self._lock = database._write_lock if write else None
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "unit of work used outside its with block"
        return self._conn

    @property
    def dialect(self) -> str:
        return self._database.engine.dialect.name

    def __enter__(self) -> Self:
        if self._lock is not None:
            self._lock.acquire()
        try:
            conn = self._database.engine.connect()
            if self._write and self._database.sqlite:
                conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            conn.begin()
            self._conn = conn
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    def commit(self) -> None:
        self.conn.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._conn is not None:
                self._conn.rollback()
                self._conn.close()
                self._conn = None
        finally:
            if self._lock is not None:
                self._lock.release()

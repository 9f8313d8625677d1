"""Engines and the unit of work.

SQLite runs in WAL mode; the writes of one process are serialized by a lock and begin
``IMMEDIATE``, so concurrent writers queue instead of failing on lock upgrades. PostgreSQL
writes lock the rows they change (``SELECT ... FOR UPDATE``) and run concurrently.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``)."""
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
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN, so writes can begin IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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

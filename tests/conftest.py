"""Fixtures shared by the suite: a clean database per test, on SQLite and on PostgreSQL.

Store-backed tests take the ``database_url`` fixture, parametrized over both backends.
Each test gets a database of its own, copied from one migrated once per session (per
worker, when the suite runs in parallel: each worker has its own servers).

Every test that reaches PostgreSQL (its ``postgresql`` parameter, or the server fixtures)
is marked ``postgres``, so ``-m "not postgres"`` runs the rest alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentoffers.server.store.migrate import upgrade
from sentoffers.sql.db import Database, create_db_engine
from tests.support.database_pool import DatabasePool
from tests.support.postgres import PostgresServer, postgres_server_from_env
from tests.support.redis import RedisServer

TEMPLATE_DB = "sentoffers_template"


POSTGRES_FIXTURES = {"postgres_server", "postgres_template", "postgres_databases"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in callspec.params.values()
        if on_postgres or POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = postgres_server_from_env()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private Redis server: rate limits and circuit breakers shared between processes."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    postgres_server.drop_database(TEMPLATE_DB)
    postgres_server.create_database(TEMPLATE_DB)
    engine = create_db_engine(postgres_server.url(TEMPLATE_DB))
    upgrade(engine)
    engine.dispose()
    return TEMPLATE_DB


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: PostgresServer, postgres_template: str) -> DatabasePool:
    """Migrated databases lent to one test at a time, emptied back to the template's rows."""
    return DatabasePool(postgres_server, postgres_template)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "sentoffers.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    pool: DatabasePool = request.getfixturevalue("postgres_databases")
    name = pool.take()
    yield pool.server.url(name)
    pool.give_back(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(create_db_engine(database_url, pool_size=5))
    yield database
    database.dispose()

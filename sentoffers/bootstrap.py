"""The one place where concrete parts are wired together."""

from __future__ import annotations

from fastapi import FastAPI

from sentoffers.api.app import create_app
from sentoffers.settings import Settings
from sentoffers.store.db import Database, create_db_engine
from sentoffers.store.migrations import upgrade


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The database of ``settings``, brought to the latest schema unless told not to."""
    engine = create_db_engine(settings.database_url, pool_size=settings.db_pool_size)
    if migrate:
        upgrade(engine)
    return Database(engine)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(settings, open_database(settings))

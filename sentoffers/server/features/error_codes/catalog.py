"""The set of known error-code ids, kept in memory and refreshed every few seconds.

Every log is checked against it; rereading the table per request would cost a query on
the hottest path for a list that changes a few times a year.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from sentoffers.server.store.tables import error_codes
from sentoffers.sql.db import Database


class ErrorCodeCatalog:
    def __init__(
        self,
        db: Database,
        *,
        refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._db = db
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._ids: frozenset[str] = frozenset()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def ids(self) -> frozenset[str]:
        loaded = self._loaded_at
        if loaded is None or self._clock() - loaded > self._refresh_seconds:
            self.reload()
        return self._ids

    def reload(self) -> None:
        with self._lock, self._db.unit_of_work(write=False) as uow:
            rows = uow.conn.execute(select(error_codes.c.id))
            self._ids = frozenset(row.id.upper() for row in rows)
            self._loaded_at = self._clock()

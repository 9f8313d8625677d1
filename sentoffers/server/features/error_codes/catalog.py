"""The set of known error-code ids, kept in memory and refreshed every few seconds.

Every log is checked against it; rereading the table per request would cost a query on
the hottest path for a list that changes a few times a year.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
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
        # One entry, the ids, read again once it is ``refresh_seconds`` old.
        self._loaded: TTLCache[str, frozenset[str]] = TTLCache(
            maxsize=1, ttl=refresh_seconds, timer=clock
        )
        self._lock = threading.Lock()

    def ids(self) -> frozenset[str]:
        # Under the lock, so that when the ids expire one request reads them and the others
        # wait for it rather than each reading them again.
        with self._lock:
            ids = self._loaded.get(_IDS)
            return self._read() if ids is None else ids

    def reload(self) -> frozenset[str]:
        """Read the ids again now (after a change of the list); returns them."""
        with self._lock:
            return self._read()

    def _read(self) -> frozenset[str]:
        with self._db.unit_of_work(write=False) as uow:
            ids = frozenset(row.id.upper() for row in uow.conn.execute(select(error_codes.c.id)))
        self._loaded[_IDS] = ids
        return ids


_IDS = "ids"

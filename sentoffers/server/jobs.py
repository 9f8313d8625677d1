"""Background jobs run inside the service: the idle-interaction sweep, the retention
purge and, when a catalog is configured, the offer-metadata lookup."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from sentoffers.observability.periodic import every, in_thread
from sentoffers.server.features.catalog.enrichment import catalog_enrichment
from sentoffers.server.features.interactions.idle import close_idle_interactions
from sentoffers.server.features.retention import purge_expired
from sentoffers.server.settings import Settings
from sentoffers.sql.db import Database


class BackgroundJobs:
    def __init__(self, settings: Settings, db: Database):
        self._settings = settings
        self._db = db
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: list[Callable[[], None]] = []

    def start(self) -> None:
        settings = self._settings
        self._run(settings.idle_sweep_seconds, "idle-interaction sweep", self._close_idle)
        self._run(settings.purge_every_seconds, "retention purge", self._purge)
        if settings.catalog_base_url:
            enrichment = catalog_enrichment(settings, self._db)
            if enrichment is not None:
                self._closers.append(enrichment.close)
                self._run(settings.catalog_interval_seconds, "catalog metadata", enrichment)

    def _run(self, seconds: float, name: str, job: Callable[[threading.Event], object]) -> None:
        """Run ``job`` in a worker thread every ``seconds``; a failure is logged and retried."""
        self._tasks.append(asyncio.create_task(every(seconds, name, in_thread(job))))

    def _close_idle(self, _stop: threading.Event) -> str | None:
        closed = close_idle_interactions(self._db, self._settings.idle_timeout)
        return f"closed {closed} idle interaction(s)" if closed else None

    def _purge(self, _stop: threading.Event) -> str | None:
        report = purge_expired(
            self._db,
            self._settings.retention,
            chunk_rows=self._settings.purge_chunk_rows,
            idempotency_ttl=self._settings.idempotency_ttl,
        )
        return report.describe() if report.deleted_anything else None

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for close in self._closers:
            close()
        self._closers.clear()

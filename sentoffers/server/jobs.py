"""Background jobs run inside the service: the idle-interaction sweep, the retention
purge and, when a catalog is configured, the offer-metadata lookup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import anyio.to_thread

from sentoffers.observability.metrics import job_run
from sentoffers.server.features.catalog.enrichment import run_enrichment_job
from sentoffers.server.features.interactions.idle import close_idle_interactions
from sentoffers.server.features.retention import purge_expired
from sentoffers.server.settings import Settings
from sentoffers.sql.db import Database

logger = logging.getLogger("sentoffers.jobs")


class BackgroundJobs:
    def __init__(self, settings: Settings, db: Database):
        self._settings = settings
        self._db = db
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        settings = self._settings
        self._repeat(settings.idle_sweep_seconds, "idle-interaction sweep", self._close_idle)
        self._repeat(settings.purge_every_seconds, "retention purge", self._purge)
        if settings.catalog_base_url:
            self._tasks.append(asyncio.create_task(run_enrichment_job(settings, self._db)))

    def _repeat(self, seconds: float, name: str, job: Callable[[], str | None]) -> None:
        """Run ``job`` in a worker thread every ``seconds``; a failure is logged and retried."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    with job_run(name):
                        said = await anyio.to_thread.run_sync(job)
                    if said:
                        logger.info("%s: %s", name, said)
                except Exception:
                    logger.exception("%s failed; will retry", name)

        self._tasks.append(asyncio.create_task(loop()))

    def _close_idle(self) -> str | None:
        closed = close_idle_interactions(self._db, self._settings.idle_timeout)
        return f"closed {closed} idle interaction(s)" if closed else None

    def _purge(self) -> str | None:
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

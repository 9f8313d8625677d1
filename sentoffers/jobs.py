"""Background jobs run inside the service: the idle-interaction sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio.to_thread

from sentoffers.interactions.idle import close_idle_interactions
from sentoffers.settings import Settings
from sentoffers.store.db import Database

logger = logging.getLogger("sentoffers.jobs")


class BackgroundJobs:
    def __init__(self, settings: Settings, db: Database):
        self._settings = settings
        self._db = db
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._every(self._settings.idle_sweep_seconds)))

    async def _every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                closed = await anyio.to_thread.run_sync(
                    close_idle_interactions, self._db, self._settings.idle_timeout
                )
                if closed:
                    logger.info("closed %d idle interaction(s)", closed)
            except Exception:
                logger.exception("idle-interaction sweep failed; will retry")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

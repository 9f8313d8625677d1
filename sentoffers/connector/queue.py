"""The work queue between the affiliate endpoint and the pipeline's workers.

``WorkQueue`` is what the rest of the connector relies on; ``InProcessQueue`` keeps the jobs
in memory, one per SKU: a notification for a SKU already waiting is merged into the waiting
one (flags add up), and one for a SKU being processed waits until that job is done, so two
workers never work on the same SKU and its reports reach the service in order. A durable
queue per context and store (a broker) can take its place behind the same methods.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from sentoffers.connector.model import Job

__all__ = ["InProcessQueue", "WorkQueue", "run_workers"]

log = logging.getLogger("sentoffers.connector")

Key = tuple[str, str]


class WorkQueue(Protocol):
    """Jobs keyed by (account, SKU id), handed to one worker at a time per key."""

    def put(self, job: Job) -> None:
        """Add a job (or merge it into the one waiting for the same SKU)."""
        ...

    async def get(self) -> Job:
        """The next job to work on; wait for one."""
        ...

    def done(self, job: Job) -> None:
        """The worker finished ``job``."""
        ...

    def pending(self) -> int:
        """Jobs waiting or being worked on."""
        ...

    async def wait_idle(self) -> None:
        """Return once nothing is waiting or being worked on."""
        ...


def _merge(earlier: Job | None, later: Job) -> Job:
    if earlier is None:
        return later
    return Job(
        earlier.notification.merged_with(later.notification),
        # A fresh notification starts the count of attempts again.
        min(earlier.attempt, later.attempt),
        later.cause,
    )


class InProcessQueue:
    """``WorkQueue`` in memory, for one event loop."""

    def __init__(self) -> None:
        self._keys: asyncio.Queue[Key] = asyncio.Queue()
        self._waiting: dict[Key, Job] = {}
        self._running: set[Key] = set()
        self._deferred: dict[Key, Job] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def put(self, job: Job) -> None:
        key = job.key
        self._idle.clear()
        if key in self._waiting:
            self._waiting[key] = _merge(self._waiting[key], job)
        elif key in self._running:
            self._deferred[key] = _merge(self._deferred.get(key), job)
        else:
            self._waiting[key] = job
            self._keys.put_nowait(key)

    async def get(self) -> Job:
        key = await self._keys.get()
        self._running.add(key)
        return self._waiting.pop(key)

    def done(self, job: Job) -> None:
        key = job.key
        self._running.discard(key)
        later = self._deferred.pop(key, None)
        if later is not None:
            self.put(later)
        elif self.pending() == 0:
            self._idle.set()

    def pending(self) -> int:
        return len(self._waiting) + len(self._running) + len(self._deferred)

    async def wait_idle(self) -> None:
        await self._idle.wait()


async def run_workers(
    queue: WorkQueue, handle: Callable[[Job], Awaitable[object]], count: int
) -> None:
    """``count`` workers taking jobs from ``queue`` until cancelled; a job that raises is
    logged and dropped, never the worker."""

    async def worker() -> None:
        while True:
            job = await queue.get()
            try:
                await handle(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("processing SKU %s of %s failed", job.key[1], job.key[0])
            finally:
                queue.done(job)

    async with asyncio.TaskGroup() as group:
        for _ in range(count):
            group.create_task(worker())

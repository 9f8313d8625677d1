"""Durable queues per context and store, on huey, and the workers that drain them.

Each store has three queues, one per context: ``catalog``, ``price`` and ``inventory``
(``sentoffers.<context>.<account>``), so a store's slow catalog never holds back another
store's stock, nor its own prices. The queues live in huey's storage:

- embedded (the default, no server to install): ``SqliteHuey``, a SQLite file beside the
  connector's database (``sqlite:///data/connector-queue.db``);
- on a broker: ``RedisHuey`` (``redis://host:6379/0``), shared by any number of worker
  processes (``sentoffers connector worker``), on any number of machines.

A task names a SKU; what to do with it is in the work ledger (``ledger.WorkLedger``), which
also makes a crash harmless: huey hands a task out by removing it, the ledger keeps the row
until the work is done. A retry is a task scheduled with huey for later (``delay``), moved
back to its queue by the workers' scheduler when due.

``QueueWorkers`` runs on an asyncio event loop: per queue, a pump takes tasks while the
queue's concurrency allows, and each task runs as a coroutine (the pipeline is asyncio
through and through; huey's own consumer runs plain functions in threads, which is why the
connector drives huey's queues itself). Periodic jobs renew the leases held, move due
retries back, and recover rows whose worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.storage import SqliteStorage

from sentoffers.connector.ledger import Claimed, Routed, WorkLedger

__all__ = ["CONTEXTS", "QueueBackend", "QueueWorkers", "Settled", "every", "queue_name"]

log = logging.getLogger("sentoffers.connector")

CONTEXTS = ("catalog", "price", "inventory")


def queue_name(context: str, account: str) -> str:
    return f"sentoffers.{context}.{account}"


class _SqliteStorage(SqliteStorage):  # type: ignore[misc]
    """huey's SQLite storage in WAL with ``synchronous=NORMAL``: a committed task survives
    the connector's crash; only a power cut may lose the last ones (then the ledger's
    recovery queues them again)."""

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


class _EmbeddedHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = _SqliteStorage


def _unused(account: str, sku_id: str) -> None:  # noqa: ARG001 - the task's signature
    raise RuntimeError(
        "sentoffers' queues are drained by the connector's own workers (`sentoffers connector`"
        " or `sentoffers connector worker`), not by huey's consumer"
    )


class QueueBackend:
    """The huey queues of ``url``: ``sqlite:///path`` (embedded) or ``redis://...``."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.kind = parts.scheme
        if self.kind == "sqlite":
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._path = path
        elif self.kind not in ("redis", "rediss"):
            raise ValueError(
                f"unsupported queue URL {url!r}: use sqlite:///path/queue.db or redis://host:port/db"
            )
        self._queues: dict[str, tuple[Huey, TaskWrapper]] = {}

    @property
    def embedded(self) -> bool:
        return self.kind == "sqlite"

    def _queue(self, context: str, account: str) -> tuple[Huey, TaskWrapper]:
        name = queue_name(context, account)
        found = self._queues.get(name)
        if found is None:
            huey: Huey
            if self.embedded:
                huey = _EmbeddedHuey(name, filename=self._path, results=False, utc=True)
            else:
                huey = RedisHuey(name, url=self.url, results=False, blocking=False, utc=True)
            found = huey, huey.task(name="sentoffers.work")(_unused)
            self._queues[name] = found
        return found

    def put(self, routed: Routed, delay: float = 0.0) -> None:
        """A task for (account, SKU) in the queue of its context, now or after ``delay``."""
        account, sku, context = routed
        huey, work = self._queue(context, account)
        if delay > 0:
            huey.add_schedule(work.s(account, sku, delay=delay))
        else:
            huey.enqueue(work.s(account, sku))

    def take(self, context: str, account: str) -> tuple[str, str] | None:
        """The next task of a queue (removed from it), or ``None``."""
        huey, _ = self._queue(context, account)
        task: Task | None = huey.dequeue()
        if task is None:
            return None
        args = task.args
        return str(args[0]), str(args[1])

    def move_due(self, context: str, account: str) -> int:
        """Move the retries that are due from the schedule back to their queue."""
        huey, _ = self._queue(context, account)
        due = huey.read_schedule()
        for task in due:
            huey.enqueue(task)
        return len(due)

    def sizes(self, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        """Tasks waiting and scheduled per queue."""
        found: dict[str, dict[str, int]] = {}
        for account in accounts:
            for context in CONTEXTS:
                huey, _ = self._queue(context, account)
                found[queue_name(context, account)] = {
                    "waiting": int(huey.pending_count()),
                    "scheduled": int(huey.scheduled_count()),
                }
        return found

    def flush(self) -> None:
        """Empty every queue this backend opened (tests and tools)."""
        for huey, _ in self._queues.values():
            huey.flush()


@dataclass(frozen=True, slots=True)
class Settled:
    """What running a job came to: done (``retry_in`` ``None``), or to be tried again after
    ``retry_in`` seconds for ``reason``; ``give_up`` makes it a dead letter now."""

    retry_in: float | None = None
    reason: str = ""
    give_up: bool = False


Run = Callable[[Claimed], Awaitable[Settled]]


async def every(seconds: float, action: Callable[[], Awaitable[object]]) -> None:
    """Run ``action`` every ``seconds`` until cancelled; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            log.exception("a periodic job of the connector failed: %s", action)


class QueueWorkers:
    """Drains the queues of ``accounts`` on the running event loop.

    ``concurrency`` is the number of jobs at once per context (per store). ``recover_all``
    (the embedded mode, where this process is the only worker) puts every row left running
    back in its queue at start; otherwise only rows whose lease expired.
    """

    def __init__(
        self,
        backend: QueueBackend,
        ledger: WorkLedger,
        run: Run,
        accounts: Iterable[str],
        *,
        concurrency: dict[str, int],
        max_attempts: int,
        recover_all: bool = False,
        poll_seconds: float = 0.2,
        recover_every: float = 15.0,
    ) -> None:
        self.backend, self.ledger, self.run = backend, ledger, run
        self.accounts = sorted(accounts)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.recover_all = recover_all
        self.poll_seconds = poll_seconds
        self.recover_every = recover_every
        self._held: set[str] = set()
        self._jobs: set[asyncio.Task[None]] = set()
        self._io = ThreadPoolExecutor(
            max_workers=len(self.accounts) * len(CONTEXTS) + 2, thread_name_prefix="queues"
        )
        self.running = 0

    async def _io_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

    async def serve(self) -> None:
        """Run until cancelled; jobs in flight are cancelled with it (their rows are
        recovered by the next start, or when their lease runs out)."""
        stale = 0.0 if self.recover_all else 600.0
        for routed in self.ledger.recover(everything=self.recover_all, stale_after=stale):
            self.backend.put(routed)
        try:
            async with asyncio.TaskGroup() as group:
                for account in self.accounts:
                    for context in CONTEXTS:
                        group.create_task(self._pump(context, account))
                group.create_task(every(0.25, self._move_due))
                group.create_task(every(self.ledger.lease.total_seconds() / 3, self._renew))
                group.create_task(every(self.recover_every, self._recover))
        finally:
            for job in list(self._jobs):
                job.cancel()
            for job in list(self._jobs):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await job
            self._io.shutdown(wait=False, cancel_futures=True)

    async def _pump(self, context: str, account: str) -> None:
        slots = asyncio.Semaphore(max(1, self.concurrency.get(context, 1)))
        idle = self.poll_seconds / 8
        while True:
            await slots.acquire()
            try:
                taken = await self._io_call(self.backend.take, context, account)
            except Exception:
                log.exception("reading the %s queue of %s failed", context, account)
                taken = None
            if taken is None:
                slots.release()
                await asyncio.sleep(idle)
                idle = min(self.poll_seconds, idle * 2)
                continue
            idle = self.poll_seconds / 8
            job = asyncio.get_running_loop().create_task(self._job(*taken))
            self._jobs.add(job)
            job.add_done_callback(self._job_done(slots))

    def _job_done(self, slots: asyncio.Semaphore) -> Callable[[asyncio.Task[None]], None]:
        def done(job: asyncio.Task[None]) -> None:
            self._jobs.discard(job)
            slots.release()

        return done

    async def _job(self, account: str, sku: str) -> None:
        claimed = self.ledger.claim(account, sku)
        if claimed is None:
            return  # done already, merged, or another worker has it
        self._held.add(claimed.token)
        self.running += 1
        try:
            try:
                settled = await self.run(claimed)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.exception("processing SKU %s of %s failed", sku, account)
                settled = Settled(5.0, f"the connector failed: {type(error).__name__}: {error}")
        finally:
            self.running -= 1
            self._held.discard(claimed.token)
        if settled.retry_in is None and not settled.give_up:
            again = self.ledger.finish(claimed)
            if again is not None:
                self.backend.put(again)
            return
        limit = claimed.job.attempt + 1 if settled.give_up else self.max_attempts
        routed = self.ledger.retry(claimed, settled.reason, max_attempts=limit)
        if routed is None:
            log.warning("SKU %s of %s is a dead letter: %s", sku, account, settled.reason)
        else:
            self.backend.put(routed, settled.retry_in or 0.0)

    async def _move_due(self) -> None:
        for account in self.accounts:
            for context in CONTEXTS:
                await self._io_call(self.backend.move_due, context, account)

    async def _renew(self) -> None:
        if self._held:
            self.ledger.renew(list(self._held))

    async def _recover(self) -> None:
        for routed in self.ledger.recover():
            log.warning("SKU %s of %s is queued again: its worker stopped", routed[1], routed[0])
            self.backend.put(routed)

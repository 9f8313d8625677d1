"""The workers that drain the queues of the work ledger, on the running event loop.

Each store has three queues, one per context: ``catalog``, ``price`` and ``inventory``, so a
store's slow catalog never holds back another store's stock, nor its own prices. A queue is
not a separate store: it is the ``queued`` rows of the work ledger (``ledger.WorkLedger``)
with that context and account, due once their ``due_at`` has come. The ledger is the one
owner of a job's state; these workers only claim, run and settle rows:

- per queue, a pump claims as many due rows as the queue's concurrency has free slots, in
  one statement (``WorkLedger.claim``), and runs each as a coroutine (the pipeline is
  asyncio through and through);
- a job that ends is finished (its row deleted, or made due again with what arrived while
  it ran), retried (the same row, due after the delay the job asked for) or made a dead
  letter;
- work added in this process wakes its queue's pump at once (``wake``); work added by
  other processes, and retries coming due, are found by polling every ``poll_seconds``;
- periodic jobs renew the leases held and take back rows whose worker died (their lease
  expired). ``recover_all`` (the embedded mode, where this process is the only worker)
  takes back every row left running at start.

Several worker processes share the queues by sharing the ledger's database: PostgreSQL,
whose claims skip the rows another process is claiming.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sentoffers.connector.ledger import CONTEXTS, Claimed, Routed, WorkLedger
from sentoffers.observability.periodic import every

__all__ = ["QueueWorkers", "Settled"]

log = logging.getLogger("sentoffers.connector")


@dataclass(frozen=True, slots=True)
class Settled:
    """What running a job came to: done (``retry_in`` ``None``), or to be tried again after
    ``retry_in`` seconds for ``reason``; ``give_up`` makes it a dead letter now."""

    retry_in: float | None = None
    reason: str = ""
    give_up: bool = False


Run = Callable[[Claimed], Awaitable[Settled]]


@dataclass(eq=False)
class _Queue:
    """One queue's pump state: its jobs running, and the events that wake its pump."""

    context: str
    account: str
    limit: int
    running: int = 0
    added: asyncio.Event = field(default_factory=asyncio.Event)
    freed: asyncio.Event = field(default_factory=asyncio.Event)


class QueueWorkers:
    """Drains the queues of ``accounts`` on the running event loop.

    ``concurrency`` is the number of jobs at once per context (per store).
    """

    def __init__(
        self,
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
        self.ledger, self.run = ledger, run
        self.accounts = sorted(accounts)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.recover_all = recover_all
        self.poll_seconds = poll_seconds
        self.recover_every = recover_every
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._held: Counter[str] = Counter()
        self._jobs: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._io = ThreadPoolExecutor(
            max_workers=len(self.accounts) * len(CONTEXTS) + 2, thread_name_prefix="queues"
        )
        self.running = 0

    def wake(self, routed: Routed) -> None:
        """Work is due in a queue: its pump looks at once (from any thread; nothing when
        the workers are not serving)."""
        account, _, context = routed
        queue, loop = self._queues.get((context, account)), self._loop
        if queue is None or loop is None:
            return
        try:
            here = asyncio.get_running_loop() is loop
        except RuntimeError:
            here = False
        if here:
            queue.added.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(queue.added.set)

    async def serve(self) -> None:
        """Run until cancelled; jobs in flight are cancelled with it (their rows are taken
        back by the next start, or when their lease runs out)."""
        self._queues = {
            (context, account): _Queue(context, account, max(1, self.concurrency.get(context, 1)))
            for account in self.accounts
            for context in CONTEXTS
        }
        self._loop = asyncio.get_running_loop()
        if self.recover_all:
            self.ledger.recover(everything=True)
        try:
            async with asyncio.TaskGroup() as group:
                for queue in self._queues.values():
                    group.create_task(self._pump(queue))
                group.create_task(
                    every(self.ledger.lease.total_seconds() / 3, "lease renewal", self._renew)
                )
                group.create_task(every(self.recover_every, "work recovery", self._recover))
        finally:
            self._loop = None
            for job in list(self._jobs):
                job.cancel()
            for job in list(self._jobs):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await job
            # Ledger calls already running end before this returns (each a few ms), so no
            # thread uses the database after the workers stop.
            self._io.shutdown(wait=True, cancel_futures=True)

    async def _pump(self, queue: _Queue) -> None:
        while True:
            free = queue.limit - queue.running
            if free <= 0:
                queue.freed.clear()
                await queue.freed.wait()
                continue
            queue.added.clear()
            claimed = await self._claim(queue, free)
            for item in claimed:
                self._start(queue, item)
            if len(claimed) < free:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.added.wait(), self.poll_seconds)

    async def _claim(self, queue: _Queue, limit: int) -> list[Claimed]:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._io, self.ledger.claim, queue.context, queue.account, limit
            )
        except Exception:
            log.exception("claiming from the %s queue of %s failed", queue.context, queue.account)
            return []

    def _start(self, queue: _Queue, claimed: Claimed) -> None:
        queue.running += 1
        self.running += 1
        self._held[claimed.token] += 1
        job = asyncio.get_running_loop().create_task(self._job(claimed))
        self._jobs.add(job)
        job.add_done_callback(self._job_done(queue, claimed.token))

    def _job_done(self, queue: _Queue, token: str) -> Callable[[asyncio.Task[None]], None]:
        def done(job: asyncio.Task[None]) -> None:
            self._jobs.discard(job)
            queue.running -= 1
            self.running -= 1
            self._held[token] -= 1
            if self._held[token] <= 0:
                del self._held[token]
            queue.freed.set()

        return done

    async def _job(self, claimed: Claimed) -> None:
        try:
            settled = await self.run(claimed)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            account, sku = claimed.job.key
            log.exception("processing SKU %s of %s failed", sku, account)
            settled = Settled(5.0, f"the connector failed: {type(error).__name__}: {error}")
        try:
            self._settle(claimed, settled)
        except Exception:
            account, sku = claimed.job.key
            log.exception(
                "recording the end of SKU %s of %s failed: due again when its lease ends",
                sku,
                account,
            )

    def _settle(self, claimed: Claimed, settled: Settled) -> None:
        if settled.retry_in is None and not settled.give_up:
            again = self.ledger.finish(claimed)
            if again is not None:
                self.wake(again)
            return
        limit = claimed.job.attempt + 1 if settled.give_up else self.max_attempts
        delay = settled.retry_in or 0.0
        if self.ledger.retry(claimed, settled.reason, max_attempts=limit, delay=delay) is None:
            account, sku = claimed.job.key
            log.warning("SKU %s of %s is a dead letter: %s", sku, account, settled.reason)

    async def _renew(self) -> None:
        if self._held:
            self.ledger.renew(list(self._held))

    async def _recover(self) -> None:
        for routed in self.ledger.recover():
            log.warning("SKU %s of %s is due again: its worker stopped", routed[1], routed[0])
            self.wake(routed)

"""Group commit for the unified contract.

Connectors call the unified contract from many connections at once. Written one by one,
each call pays a transaction of its own; on SQLite they also queue on the single writer.
``UnifiedWriter`` gathers the calls that arrive while a transaction is being written and
writes them together, in arrival order, through the batch path: no call waits for company
(an idle writer takes a lone call at once), each caller gets its own result or error, and
if a shared transaction fails, its calls are retried one by one so one cannot sink others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.to_thread

from sentoffers.errors import ServiceError
from sentoffers.interactions.schemas import UnifiedCreate
from sentoffers.interactions.service import Applied, write_unified
from sentoffers.store.db import Database

logger = logging.getLogger("sentoffers.writer")


@dataclass(slots=True)
class _Call:
    account: str
    feed_id: str
    sku_id: str
    body: UnifiedCreate
    future: asyncio.Future[Applied] = field(repr=False)


Outcome = Applied | BaseException


class UnifiedWriter:
    def __init__(
        self,
        db: Database,
        known_codes: Callable[[], Collection[str]],
        *,
        max_items: int = 1000,
    ):
        self._db = db
        self._known_codes = known_codes
        self._max_items = max_items
        self._pending: list[_Call] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, account: str, feed_id: str, sku_id: str, body: UnifiedCreate) -> Applied:
        """Write one unified call; answers when the transaction holding it has committed."""
        self._ensure_running()
        assert self._wakeup is not None
        future: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        self._pending.append(_Call(account, feed_id, sku_id, body, future))
        self._wakeup.set()
        return await future

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for call in self._pending:
            if not call.future.done():
                call.future.set_exception(ServiceError("the service is shutting down"))
        self._pending.clear()

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                calls = self._pending[: self._max_items]
                del self._pending[: self._max_items]
                outcomes = await anyio.to_thread.run_sync(self._write_together, calls)
                for call, outcome in zip(calls, outcomes, strict=True):
                    if call.future.done():  # the caller went away
                        continue
                    if isinstance(outcome, BaseException):
                        call.future.set_exception(outcome)
                    else:
                        call.future.set_result(outcome)

    def _write_together(self, calls: list[_Call]) -> list[Outcome]:
        try:
            return self._write(calls)
        except Exception as error:
            if len(calls) == 1:
                return [error]
            logger.warning(
                "a shared write of %d unified calls failed; retrying them one by one",
                len(calls),
                exc_info=True,
            )
            return self._one_by_one(calls)

    def _one_by_one(self, calls: list[_Call]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for call in calls:
            try:
                outcomes.extend(self._write([call]))
            except Exception as error:  # each caller hears its own failure
                outcomes.append(error)
        return outcomes

    def _write(self, calls: list[_Call]) -> list[Outcome]:
        """One transaction for all ``calls``, grouped by account and feed, in lock order."""
        now = datetime.now(UTC)
        known = self._known_codes()
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index, call in enumerate(calls):
            groups[(call.account, call.feed_id)].append(index)
        outcomes: list[Outcome | None] = [None] * len(calls)
        with self._db.unit_of_work() as uow:
            for (account, feed_id), indexes in sorted(groups.items()):
                items = [(calls[i].sku_id, calls[i].body) for i in indexes]
                try:
                    written: list[Applied | ServiceError] = list(
                        write_unified(uow.conn, account, feed_id, items, known, now)
                    )
                except ServiceError as error:  # the feed refuses the whole group
                    written = [error] * len(indexes)
                for i, outcome in zip(indexes, written, strict=True):
                    outcomes[i] = outcome
            uow.commit()
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]

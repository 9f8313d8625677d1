"""Group commit: writes that arrive together share one transaction.

Callers on many connections each ``submit`` an item and await its own outcome. A single
task takes whatever is pending, hands it to ``write`` (which runs one transaction for the
lot, in a worker thread) and gives each caller its result or its error. No item waits
for company: an idle writer takes a lone item at once; items that arrive meanwhile make
the next group. If a shared write fails, its items are written again one by one, so one
bad item cannot sink the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio.to_thread

from sentoffers.errors import ServiceError

__all__ = ["GroupCommit"]

logger = logging.getLogger("sentoffers.writer")

I = TypeVar("I")  # noqa: E741 - the item type
R = TypeVar("R")


@dataclass(slots=True)
class _Pending(Generic[I, R]):
    item: I
    future: asyncio.Future[R] = field(repr=False)


class GroupCommit(Generic[I, R]):
    """Runs ``write(items) -> outcomes`` (one outcome per item, in order; an outcome may
    be an exception for that item alone) for groups of up to ``max_items``."""

    def __init__(
        self,
        write: Callable[[Sequence[I]], Sequence[R | BaseException]],
        *,
        max_items: int = 1000,
        what: str = "writes",
    ) -> None:
        self._write = write
        self._max_items = max_items
        self._what = what
        self._pending: list[_Pending[I, R]] = []
        self._writing: list[_Pending[I, R]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: I) -> R:
        """Write ``item``; answers once the transaction holding it has committed."""
        self._ensure_running()
        assert self._wakeup is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(item, future))
        self._wakeup.set()
        return await future

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # A new event loop (tests run one per client) starts a writer of its own.
            self._pending = [p for p in self._pending if p.future.get_loop() is loop]
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run())

    async def stop(self) -> None:
        """Stop the writer; callers still waiting hear that the service is shutting down."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pending in (*self._writing, *self._pending):
            if not pending.future.done():
                pending.future.set_exception(ServiceError("the service is shutting down"))
        self._pending.clear()
        self._writing = []

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                self._writing = group = self._pending[: self._max_items]
                del self._pending[: self._max_items]
                items = [pending.item for pending in group]
                outcomes = await anyio.to_thread.run_sync(self._write_together, items)
                self._writing = []
                for pending, outcome in zip(group, outcomes, strict=True):
                    if pending.future.done():  # the caller went away
                        continue
                    if isinstance(outcome, BaseException):
                        pending.future.set_exception(outcome)
                    else:
                        pending.future.set_result(outcome)

    def _write_together(self, items: list[I]) -> list[R | BaseException]:
        try:
            return list(self._write(items))
        except Exception as error:
            if len(items) == 1:
                return [error]
            logger.warning(
                "a shared write of %d %s failed; writing them one by one",
                len(items),
                self._what,
                exc_info=True,
            )
        outcomes: list[R | BaseException] = []
        for item in items:
            try:
                outcomes.extend(self._write([item]))
            except Exception as error:  # each caller hears its own failure
                outcomes.append(error)
        return outcomes

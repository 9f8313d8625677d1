"""Group commit: writes that arrive together share one transaction (or one request).

Callers on many connections each ``submit`` an item and await its own outcome. A single
task takes whatever is pending, hands it to ``write`` (which runs one transaction for the
group, in a worker thread) and gives each caller its result or its error. No item waits
for company: an idle writer takes a lone item at once; items that arrive meanwhile make
the next group. If a shared write fails, its items are written again one by one, so one
bad item cannot sink the others.

The same machinery sends lots over the network: ``GroupCommit.sending(send)`` takes a
coroutine that answers a whole group (one marketplace lot, one batch request), may wait
``linger`` seconds for a group to fill, and keeps up to ``in_flight`` groups going at once.
A failed send fails its whole group: repeating a failing request item by item would only
multiply the load on what is failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio.to_thread

from sentoffers.domain.errors import ServiceError
from sentoffers.observability.metrics import observe_group

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
        write: Callable[[Sequence[I]], Sequence[R | BaseException]] | None,
        *,
        max_items: int = 1000,
        what: str = "writes",
        send: Callable[[Sequence[I]], Awaitable[Sequence[R | BaseException]]] | None = None,
        linger: float = 0.0,
        in_flight: int = 1,
    ) -> None:
        if (write is None) == (send is None):
            raise ValueError("give either write (a blocking function) or send (a coroutine)")
        if max_items < 1 or in_flight < 1 or linger < 0:
            raise ValueError("max_items and in_flight must be at least 1, linger not negative")
        self._write = write
        self._send = send
        self._max_items = max_items
        self._what = what
        self._linger = linger
        self._in_flight = in_flight
        self._pending: list[_Pending[I, R]] = []
        self._writing: list[_Pending[I, R]] = []
        self._wakeup: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._groups: set[asyncio.Task[None]] = set()

    @classmethod
    def sending(
        cls,
        send: Callable[[Sequence[I]], Awaitable[Sequence[R | BaseException]]],
        *,
        max_items: int,
        linger: float = 0.0,
        in_flight: int = 1,
        what: str = "items",
    ) -> GroupCommit[I, R]:
        """Groups of up to ``max_items`` answered by the coroutine ``send``."""
        return cls(
            None, send=send, max_items=max_items, linger=linger, in_flight=in_flight, what=what
        )

    async def submit(self, item: I) -> R:
        """Write ``item``; answers once the transaction holding it has committed."""
        self._ensure_running()
        assert self._wakeup is not None
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(item, future))
        self._wakeup.set()
        if self._full is not None and len(self._pending) >= self._max_items:
            self._full.set()
        return await future

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # A new event loop (tests run one per client) starts a writer of its own.
            self._pending = [p for p in self._pending if p.future.get_loop() is loop]
            self._wakeup = asyncio.Event()
            self._full = asyncio.Event()
            self._task = loop.create_task(self._run())

    async def stop(self) -> None:
        """Stop the writer; callers still waiting hear that the service is shutting down."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for group in list(self._groups):
            group.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await group
        self._groups.clear()
        for pending in (*self._writing, *self._pending):
            if not pending.future.done():
                pending.future.set_exception(ServiceError("the service is shutting down"))
        self._pending.clear()
        self._writing = []

    async def _run(self) -> None:
        assert self._wakeup is not None
        assert self._full is not None
        slots = asyncio.Semaphore(self._in_flight)
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._linger and len(self._pending) < self._max_items:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._linger)
            self._full.clear()
            while self._pending:
                group = self._pending[: self._max_items]
                del self._pending[: self._max_items]
                observe_group(self._what, len(group))
                if self._send is None:
                    self._writing = group
                    items = [pending.item for pending in group]
                    outcomes = await anyio.to_thread.run_sync(self._write_together, items)
                    self._writing = []
                    self._settle(group, outcomes)
                    continue
                await slots.acquire()
                task = asyncio.get_running_loop().create_task(self._send_group(group))
                self._groups.add(task)
                task.add_done_callback(self._group_done(slots))

    def _group_done(self, slots: asyncio.Semaphore) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._groups.discard(task)
            slots.release()

        return done

    async def _send_group(self, group: list[_Pending[I, R]]) -> None:
        assert self._send is not None
        try:
            outcomes: Sequence[R | BaseException] = await self._send(
                [pending.item for pending in group]
            )
            if len(outcomes) != len(group):
                raise RuntimeError(f"{len(outcomes)} outcomes for a group of {len(group)}")
        except asyncio.CancelledError:
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(ServiceError("stopped while sending"))
            raise
        except Exception as error:  # the whole group hears what failed
            outcomes = [error] * len(group)
        self._settle(group, outcomes)

    @staticmethod
    def _settle(group: list[_Pending[I, R]], outcomes: Sequence[R | BaseException]) -> None:
        for pending, outcome in zip(group, outcomes, strict=True):
            if pending.future.done():  # the caller went away
                continue
            if isinstance(outcome, BaseException):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)

    def _write_together(self, items: list[I]) -> list[R | BaseException]:
        assert self._write is not None
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

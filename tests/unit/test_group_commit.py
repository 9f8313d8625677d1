"""Group commit: items that arrive together share one write; each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from sentoffers.errors import ServiceError
from sentoffers.store.group_commit import GroupCommit


class Ledger:
    """A write that records its groups and refuses the item "bad" (the whole group fails)."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    def write(self, items: Sequence[str]) -> list[str | BaseException]:
        self.groups.append(list(items))
        if "bad" in items:
            raise ValueError("a bad item")
        return [item.upper() for item in items]


def test_items_submitted_together_are_written_in_one_group_in_arrival_order() -> None:
    ledger = Ledger()

    async def run() -> list[str]:
        group = GroupCommit(ledger.write)
        try:
            return await asyncio.gather(*(group.submit(name) for name in "abcd"))
        finally:
            await group.stop()

    assert asyncio.run(run()) == ["A", "B", "C", "D"]
    assert ledger.groups == [["a", "b", "c", "d"]]


def test_a_failed_group_is_written_again_one_by_one_so_only_the_bad_item_fails() -> None:
    ledger = Ledger()

    async def run() -> list[str | BaseException]:
        group = GroupCommit(ledger.write)
        try:
            submitted = (group.submit(name) for name in ("a", "bad", "c"))
            return await asyncio.gather(*submitted, return_exceptions=True)
        finally:
            await group.stop()

    first, bad, third = asyncio.run(run())
    assert (first, third) == ("A", "C")
    assert isinstance(bad, ValueError)
    assert ledger.groups == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_groups_never_exceed_max_items() -> None:
    ledger = Ledger()

    async def run() -> None:
        group = GroupCommit(ledger.write, max_items=2)
        try:
            await asyncio.gather(*(group.submit(name) for name in "abcde"))
        finally:
            await group.stop()

    asyncio.run(run())
    assert [len(g) for g in ledger.groups] == [2, 2, 1]


def test_a_writer_serves_a_new_event_loop_after_the_first_one_closed() -> None:
    ledger = Ledger()
    group = GroupCommit(ledger.write)
    assert asyncio.run(group.submit("a")) == "A"
    assert asyncio.run(group.submit("b")) == "B"


def test_callers_still_waiting_at_stop_hear_that_the_service_is_shutting_down() -> None:
    release = threading.Event()

    def slow(items: Sequence[str]) -> list[str | BaseException]:
        release.wait(5)
        return list(items)

    async def run() -> list[str | BaseException]:
        group = GroupCommit(slow)
        waiting = [
            asyncio.ensure_future(group.submit(name)) for name in ("being written", "queued")
        ]
        await asyncio.sleep(0.05)  # "a" and "b" are in the write
        waiting.append(asyncio.ensure_future(group.submit("late")))
        await asyncio.sleep(0)
        await group.stop()
        release.set()
        return await asyncio.gather(*waiting, return_exceptions=True)

    outcomes = asyncio.run(run())
    assert all(isinstance(o, ServiceError) for o in outcomes), outcomes

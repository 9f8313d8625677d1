"""Group commit: items that arrive together share one write; each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from sentoffers.domain.errors import ServiceError
from sentoffers.sql.group_commit import GroupCommit


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


def test_an_item_the_write_refuses_fails_alone_and_the_group_is_not_rewritten() -> None:
    """A write may refuse one item (a key another request holds) and commit the others."""
    groups: list[list[str]] = []

    def write(items: Sequence[str]) -> list[str | BaseException]:
        groups.append(list(items))
        return [LookupError(item) if item == "taken" else item.upper() for item in items]

    async def run() -> list[str | BaseException]:
        group = GroupCommit(write)
        try:
            submitted = (group.submit(name) for name in ("a", "taken", "c"))
            return await asyncio.gather(*submitted, return_exceptions=True)
        finally:
            await group.stop()

    first, taken, third = asyncio.run(run())
    assert (first, third) == ("A", "C")
    assert isinstance(taken, LookupError)
    assert groups == [["a", "taken", "c"]]


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


class Lots:
    """A sender that records its groups, answers items upper-cased, and fails on "down"."""

    def __init__(self, pause: float = 0.0) -> None:
        self.groups: list[list[str]] = []
        self.pause = pause
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, items: Sequence[str]) -> list[str | BaseException]:
        self.groups.append(list(items))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.pause)
            if "down" in items:
                raise ConnectionError("the marketplace is down")
            return [ValueError(item) if item == "bad" else item.upper() for item in items]
        finally:
            self.in_flight -= 1


def test_a_sending_group_lingers_to_fill_a_lot_and_never_exceeds_its_size() -> None:
    lots = Lots()

    async def run() -> list[str]:
        group = GroupCommit.sending(lots.send, max_items=3, linger=0.05)
        try:
            first = [asyncio.ensure_future(group.submit(name)) for name in "ab"]
            await asyncio.sleep(0.01)  # arrives while the first lot lingers
            later = [asyncio.ensure_future(group.submit(name)) for name in "cde"]
            return list(await asyncio.gather(*first, *later))
        finally:
            await group.stop()

    assert asyncio.run(run()) == ["A", "B", "C", "D", "E"]
    assert lots.groups == [["a", "b", "c"], ["d", "e"]]


def test_a_failed_send_fails_its_whole_group_and_an_item_refused_fails_alone() -> None:
    lots = Lots()

    async def run() -> list[object]:
        group = GroupCommit.sending(lots.send, max_items=10)
        try:
            return list(
                await asyncio.gather(
                    *(group.submit(name) for name in ("x", "bad", "y")), return_exceptions=True
                )
            ) + list(
                await asyncio.gather(
                    *(group.submit(name) for name in ("down", "z")), return_exceptions=True
                )
            )
        finally:
            await group.stop()

    outcomes = asyncio.run(run())
    assert outcomes[0] == "X"
    assert outcomes[2] == "Y"
    assert isinstance(outcomes[1], ValueError)
    assert all(isinstance(o, ConnectionError) for o in outcomes[3:])
    assert lots.groups == [["x", "bad", "y"], ["down", "z"]]  # never split and resent


def test_several_lots_may_be_in_flight_at_once_up_to_the_limit() -> None:
    lots = Lots(pause=0.05)

    async def run() -> None:
        group = GroupCommit.sending(lots.send, max_items=1, in_flight=2)
        try:
            await asyncio.gather(*(group.submit(str(n)) for n in range(6)))
        finally:
            await group.stop()

    asyncio.run(run())
    assert lots.most_in_flight == 2
    assert len(lots.groups) == 6


def test_a_group_needs_exactly_one_of_write_and_send() -> None:
    with pytest.raises(ValueError, match="either write"):
        GroupCommit(None)
    with pytest.raises(ValueError, match="either write"):
        GroupCommit(Ledger().write, send=Lots().send)

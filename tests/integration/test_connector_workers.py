"""The queue workers: every acknowledged notification is worked on once, retried when it
must wait, given up as a dead letter at last, and recovered after a crash. Real SQLite
ledger and a real embedded huey queue; the job itself is a stand-in for the pipeline."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from sentoffers.connector.ledger import Claimed, WorkLedger
from sentoffers.connector.model import Notification
from sentoffers.connector.queues import QueueBackend, QueueWorkers, Settled
from sentoffers.connector.store import StateStore

ACME = "acme"


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[WorkLedger, QueueBackend]]:
    states = StateStore(f"sqlite:///{tmp_path / 'connector.db'}")
    yield (
        WorkLedger(states.db, lease_seconds=30),
        QueueBackend(f"sqlite:///{tmp_path / 'queue.db'}"),
    )
    states.close()


def accept(ledger: WorkLedger, queues: QueueBackend, sku: str, **flags: bool) -> None:
    routed = ledger.accept(Notification(sku, ACME, **(flags or {"sku_modified": True})))
    if routed is not None:
        queues.put(routed)


async def drain(
    ledger: WorkLedger,
    queues: QueueBackend,
    run: Callable[[Claimed], Awaitable[Settled]],
    *,
    until: Callable[[], bool],
    max_attempts: int = 3,
    recover_all: bool = False,
    concurrency: int = 4,
    before: Callable[[], None] | None = None,
) -> QueueWorkers:
    workers = QueueWorkers(
        queues, ledger, run, [ACME],
        concurrency={"catalog": concurrency, "price": 2, "inventory": 2},
        max_attempts=max_attempts, recover_all=recover_all, poll_seconds=0.05,
    )  # fmt: skip
    task = asyncio.create_task(workers.serve())
    try:
        deadline = time.monotonic() + 15
        while not until():
            assert time.monotonic() < deadline, "the workers did not finish in time"
            if before is not None:
                before()
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return workers


def test_every_acknowledged_notification_is_worked_on_once_within_the_concurrency(
    parts: tuple[WorkLedger, QueueBackend],
) -> None:
    ledger, queues = parts
    ran: Counter[str] = Counter()
    at_once = [0, 0]

    async def run(claimed: Claimed) -> Settled:
        at_once[0] += 1
        at_once[1] = max(at_once[1], at_once[0])
        await asyncio.sleep(0.02)
        ran[claimed.job.notification.sku_id] += 1
        at_once[0] -= 1
        return Settled()

    for sku in range(30):
        accept(ledger, queues, str(sku))
    accept(ledger, queues, "3", price_modified=True)  # merged into the queued one
    asyncio.run(drain(ledger, queues, run, until=lambda: len(ran) == 30 and not ledger.pending()))
    assert set(ran.values()) == {1}
    assert at_once[1] <= 4


def test_work_that_must_wait_comes_back_after_its_delay_and_dies_after_its_attempts(
    parts: tuple[WorkLedger, QueueBackend],
) -> None:
    ledger, queues = parts
    tries: dict[str, list[float]] = {"ok": [], "never": []}

    async def run(claimed: Claimed) -> Settled:
        sku = claimed.job.notification.sku_id
        tries[sku].append(time.monotonic())
        if sku == "ok" and len(tries[sku]) > 1:
            return Settled()
        return Settled(0.3, f"the marketplace did not answer ({len(tries[sku])})")

    accept(ledger, queues, "ok")
    accept(ledger, queues, "never")
    asyncio.run(drain(ledger, queues, run, until=lambda: not ledger.pending()))
    assert len(tries["ok"]) == 2
    assert tries["ok"][1] - tries["ok"][0] >= 0.25  # huey held it in its schedule
    assert len(tries["never"]) == 3
    [dead] = ledger.dead_letters()
    assert (dead.sku_id, dead.attempts) == ("never", 3)
    assert dead.reason == "the marketplace did not answer (3)"


def test_a_give_up_makes_a_dead_letter_at_once_and_a_crash_in_a_job_is_retried(
    parts: tuple[WorkLedger, QueueBackend],
) -> None:
    ledger, queues = parts
    seen: Counter[str] = Counter()

    async def run(claimed: Claimed) -> Settled:
        sku = claimed.job.notification.sku_id
        seen[sku] += 1
        if sku == "auth":
            return Settled(None, "the marketplace refused the credentials", give_up=True)
        if seen[sku] == 1:
            raise RuntimeError("a bug")
        return Settled()

    accept(ledger, queues, "auth")
    accept(ledger, queues, "buggy")
    asyncio.run(drain(ledger, queues, run, until=lambda: not ledger.pending(), max_attempts=5))
    assert seen == {"auth": 1, "buggy": 2}
    assert [(d.sku_id, d.attempts) for d in ledger.dead_letters()] == [("auth", 1)]


def test_a_notification_that_arrives_while_its_sku_runs_is_worked_on_after(
    parts: tuple[WorkLedger, QueueBackend],
) -> None:
    ledger, queues = parts
    order: list[tuple[str, bool]] = []

    async def run(claimed: Claimed) -> Settled:
        n = claimed.job.notification
        if not order:
            accept(ledger, queues, "1", stock_modified=True)  # while it runs
            await asyncio.sleep(0.1)
        order.append((n.sku_id, n.stock_modified))
        return Settled()

    accept(ledger, queues, "1", price_modified=True)
    asyncio.run(drain(ledger, queues, run, until=lambda: len(order) == 2))
    assert order == [("1", False), ("1", True)]


def test_work_left_running_by_a_killed_connector_is_taken_back_when_it_starts_again(
    parts: tuple[WorkLedger, QueueBackend],
) -> None:
    ledger, queues = parts
    accept(ledger, queues, "1")
    assert queues.take("catalog", ACME) == (ACME, "1")  # taken off the queue ...
    assert ledger.claim(ACME, "1") is not None  # ... and running when the process died
    done: list[str] = []

    async def run(claimed: Claimed) -> Settled:
        done.append(claimed.job.notification.sku_id)
        return Settled()

    asyncio.run(drain(ledger, queues, run, until=lambda: bool(done), recover_all=True))
    assert done == ["1"]

"""The queue workers: every acknowledged notification is worked on once, retried when it
must wait, given up as a dead letter at last, and recovered after a crash. A real SQLite
ledger (its rows are the queues), and workers sharing a PostgreSQL one as worker processes
do; the job itself is a stand-in for the pipeline."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from sentoffers.connector.ledger import Claimed, WorkLedger
from sentoffers.connector.model import Notification
from sentoffers.connector.queues import QueueWorkers, Settled
from sentoffers.connector.store import StateStore
from tests.support.postgres import PostgresServer

ACME = "acme"
Run = Callable[[Claimed], Awaitable[Settled]]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[WorkLedger]:
    states = StateStore(f"sqlite:///{tmp_path / 'connector.db'}")
    yield WorkLedger(states.db, lease_seconds=30)
    states.close()


@pytest.fixture
def shared_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database, as worker processes on several machines share one."""
    name = f"connector_{secrets.token_hex(4)}"
    postgres_server.create_database(name)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def accept(ledger: WorkLedger, sku: str, **flags: bool) -> None:
    ledger.accept(Notification(sku, ACME, **(flags or {"sku_modified": True})))


async def serve_until(
    serving: list[QueueWorkers],
    until: Callable[[], bool],
    before: Callable[[], None] | None = None,
) -> None:
    tasks = [asyncio.create_task(workers.serve()) for workers in serving]
    try:
        deadline = time.monotonic() + 15
        while not until():
            assert time.monotonic() < deadline, "the workers did not finish in time"
            if before is not None:
                before()
            await asyncio.sleep(0.02)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with pytest.raises(asyncio.CancelledError):
                await task


async def drain(
    ledger: WorkLedger,
    run: Run,
    *,
    until: Callable[[], bool],
    max_attempts: int = 3,
    recover_all: bool = False,
    concurrency: int = 4,
    before: Callable[[], None] | None = None,
) -> QueueWorkers:
    workers = QueueWorkers(
        ledger, run, [ACME],
        concurrency={"catalog": concurrency, "price": 2, "inventory": 2},
        max_attempts=max_attempts, recover_all=recover_all, poll_seconds=0.05,
    )  # fmt: skip
    await serve_until([workers], until, before)
    return workers


def test_every_acknowledged_notification_is_worked_on_once_within_the_concurrency(
    ledger: WorkLedger,
) -> None:
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
        accept(ledger, str(sku))
    accept(ledger, "3", price_modified=True)  # merged into the queued one
    asyncio.run(drain(ledger, run, until=lambda: len(ran) == 30 and not ledger.pending()))
    assert set(ran.values()) == {1}
    assert at_once[1] <= 4


def test_work_that_must_wait_comes_back_after_its_delay_and_dies_after_its_attempts(
    ledger: WorkLedger,
) -> None:
    tries: dict[str, list[float]] = {"ok": [], "never": []}

    async def run(claimed: Claimed) -> Settled:
        sku = claimed.job.notification.sku_id
        tries[sku].append(time.monotonic())
        if sku == "ok" and len(tries[sku]) > 1:
            return Settled()
        return Settled(0.3, f"the marketplace did not answer ({len(tries[sku])})")

    accept(ledger, "ok")
    accept(ledger, "never")
    asyncio.run(drain(ledger, run, until=lambda: not ledger.pending()))
    assert len(tries["ok"]) == 2
    assert tries["ok"][1] - tries["ok"][0] >= 0.25  # not due before its delay
    assert len(tries["never"]) == 3
    [dead] = ledger.dead_letters()
    assert (dead.sku_id, dead.attempts) == ("never", 3)
    assert dead.reason == "the marketplace did not answer (3)"


def test_a_give_up_makes_a_dead_letter_at_once_and_a_crash_in_a_job_is_retried(
    ledger: WorkLedger,
) -> None:
    seen: Counter[str] = Counter()

    async def run(claimed: Claimed) -> Settled:
        sku = claimed.job.notification.sku_id
        seen[sku] += 1
        if sku == "auth":
            return Settled(None, "the marketplace refused the credentials", give_up=True)
        if seen[sku] == 1:
            raise RuntimeError("a bug")
        return Settled()

    accept(ledger, "auth")
    accept(ledger, "buggy")
    asyncio.run(drain(ledger, run, until=lambda: not ledger.pending(), max_attempts=5))
    assert seen == {"auth": 1, "buggy": 2}
    assert [(d.sku_id, d.attempts) for d in ledger.dead_letters()] == [("auth", 1)]


def test_a_notification_that_arrives_while_its_sku_runs_is_worked_on_after(
    ledger: WorkLedger,
) -> None:
    order: list[tuple[str, bool]] = []

    async def run(claimed: Claimed) -> Settled:
        n = claimed.job.notification
        if not order:
            accept(ledger, "1", stock_modified=True)  # while it runs
            await asyncio.sleep(0.1)
        order.append((n.sku_id, n.stock_modified))
        return Settled()

    accept(ledger, "1", price_modified=True)
    asyncio.run(drain(ledger, run, until=lambda: len(order) == 2))
    assert order == [("1", False), ("1", True)]


def test_work_left_running_by_a_killed_connector_is_taken_back_when_it_starts_again(
    ledger: WorkLedger,
) -> None:
    accept(ledger, "1")
    [claimed] = ledger.claim("catalog", ACME)  # claimed, and running when the process died
    assert claimed.job.notification.sku_id == "1"
    done: list[str] = []

    async def run(claimed: Claimed) -> Settled:
        done.append(claimed.job.notification.sku_id)
        return Settled()

    asyncio.run(drain(ledger, run, until=lambda: bool(done), recover_all=True))
    assert done == ["1"]


def test_work_added_in_the_process_is_taken_at_once_without_waiting_for_the_poll(
    ledger: WorkLedger,
) -> None:
    done: dict[str, float] = {}

    async def run(claimed: Claimed) -> Settled:
        done[claimed.job.notification.sku_id] = time.monotonic()
        return Settled()

    def notify(workers: QueueWorkers, sku: str) -> float:
        routed = ledger.accept(Notification(sku, ACME, sku_modified=True))
        assert routed is not None
        workers.wake(routed)
        return time.monotonic()

    async def main() -> dict[str, float]:
        workers = QueueWorkers(
            ledger, run, [ACME], concurrency={"catalog": 2}, max_attempts=3, poll_seconds=30
        )
        serving = asyncio.create_task(workers.serve())
        await asyncio.sleep(0.2)  # the pumps found nothing: they wait for a wake or 30 s
        taken = {"loop": notify(workers, "1")}
        taken["thread"] = await asyncio.to_thread(notify, workers, "2")
        deadline = time.monotonic() + 5
        while len(done) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
        return taken

    taken = asyncio.run(main())
    assert set(done) == {"1", "2"}
    assert done["1"] - taken["loop"] < 1.0
    assert done["2"] - taken["thread"] < 1.0


@pytest.mark.postgres
def test_worker_processes_sharing_a_postgresql_database_work_on_each_sku_once(
    shared_url: str,
) -> None:
    stores = [StateStore(shared_url) for _ in range(3)]  # the endpoint and two workers
    endpoint, *ledgers = (WorkLedger(store.db, lease_seconds=30) for store in stores)
    skus = [str(sku) for sku in range(80)]
    for sku in skus:
        accept(endpoint, sku)
    ran: Counter[str] = Counter()
    by: Counter[int] = Counter()
    running: set[str] = set()

    def run_in(process: int) -> Run:
        async def run(claimed: Claimed) -> Settled:
            sku = claimed.job.notification.sku_id
            assert sku not in running, f"SKU {sku} worked on twice at once"
            running.add(sku)
            await asyncio.sleep(0.01)
            running.discard(sku)
            ran[sku] += 1
            by[process] += 1
            if sku == "7" and ran[sku] == 1:
                return Settled(0.2, "the marketplace did not answer")
            return Settled()

        return run

    serving = [
        QueueWorkers(
            ledger,
            run_in(process),
            [ACME],
            concurrency={"catalog": 4},
            max_attempts=3,
            poll_seconds=0.05,
        )
        for process, ledger in enumerate(ledgers)
    ]
    try:
        asyncio.run(serve_until(serving, until=lambda: len(ran) == 80 and not endpoint.pending()))
    finally:
        for store in stores:
            store.close()
    assert ran == {sku: 2 if sku == "7" else 1 for sku in skus}
    assert by[0] > 0
    assert by[1] > 0

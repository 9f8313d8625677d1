"""The work ledger, the one owner of a job's state, on real SQLite and PostgreSQL.

The ledger is what makes an acknowledged notification survive a crash, and its queued rows
are the queues: workers claim due rows per context and store. Tests are named after the rule
they hold.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, MetaData, Table, insert, inspect

from sentoffers.connector.ledger import Claimed, WorkLedger, queue_name, work_items
from sentoffers.connector.model import Notification, SkuRecord, SkuState
from sentoffers.connector.store import StateStore
from sentoffers.sql.db import create_db_engine
from tests.support.postgres import PostgresServer

ACME = "acme"


@pytest.fixture
def states(database_url: str) -> Iterator[StateStore]:
    store = StateStore(database_url)
    yield store
    store.close()


@pytest.fixture
def ledger(states: StateStore) -> WorkLedger:
    return WorkLedger(states.db, lease_seconds=30)


@pytest.fixture
def shared_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database, as worker processes on several machines share one."""
    name = f"connector_{secrets.token_hex(4)}"
    postgres_server.create_database(name)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def n(sku: str, **flags: bool) -> Notification:
    return Notification(sku, ACME, **flags)


def listed(states: StateStore, sku: str) -> None:
    states.save(SkuRecord(ACME, sku, SkuState.SYNCED, marketplace_id=f"MP-{sku}"))


def take(ledger: WorkLedger, sku: str, context: str = "catalog") -> Claimed | None:
    """The next due row of a queue, which must be ``sku``'s; ``None`` when none is due."""
    claimed = ledger.claim(context, ACME)
    if not claimed:
        return None
    [one] = claimed
    assert one.job.notification.sku_id == sku
    return one


def skus(claimed: list[Claimed]) -> list[str]:
    return [item.job.notification.sku_id for item in claimed]


def test_an_unlisted_sku_goes_to_the_catalog_queue_whatever_changed(ledger: WorkLedger) -> None:
    assert ledger.accept(n("1", price_modified=True)) == (ACME, "1", "catalog")


def test_a_listed_sku_goes_to_the_queue_of_what_changed(
    ledger: WorkLedger, states: StateStore
) -> None:
    for sku in ("1", "2", "3"):
        listed(states, sku)
    assert ledger.accept(n("1", price_modified=True)) == (ACME, "1", "price")
    assert ledger.accept(n("2", stock_modified=True)) == (ACME, "2", "inventory")
    assert ledger.accept(n("3", sku_modified=True, stock_modified=True)) == (ACME, "3", "catalog")


def test_a_notification_for_a_queued_sku_is_merged_and_not_queued_twice(
    ledger: WorkLedger,
) -> None:
    assert ledger.accept(n("1", price_modified=True)) is not None
    assert ledger.accept(n("1", stock_modified=True)) is None
    claimed = take(ledger, "1")
    assert claimed is not None
    assert claimed.job.notification.price_modified
    assert claimed.job.notification.stock_modified


def test_a_sku_is_never_handed_out_twice(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    assert take(ledger, "1") is not None
    assert take(ledger, "1") is None  # a second claim finds nothing due


def test_a_notification_for_a_running_sku_waits_until_the_work_ends(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    claimed = take(ledger, "1")
    assert claimed is not None
    assert ledger.accept(n("1", is_active=False)) is None  # not queued while running
    assert take(ledger, "1") is None
    routed = ledger.finish(claimed)
    assert routed == (ACME, "1", "catalog")
    again = take(ledger, "1")
    assert again is not None
    assert not again.job.notification.is_active
    assert ledger.finish(again) is None
    assert ledger.pending() == 0


def test_work_not_answered_is_retried_then_becomes_a_dead_letter_with_its_reason(
    ledger: WorkLedger,
) -> None:
    ledger.accept(n("1", sku_modified=True))
    for attempt in range(3):
        claimed = take(ledger, "1")
        assert claimed is not None
        assert claimed.job.attempt == attempt
        routed = ledger.retry(claimed, f"marketplace down ({attempt})", max_attempts=3)
        assert (routed is None) == (attempt == 2)
    assert take(ledger, "1") is None
    [dead] = ledger.dead_letters()
    assert (dead.sku_id, dead.attempts, dead.reason) == ("1", 3, "marketplace down (2)")
    assert ledger.counts() == {"dead": {"catalog": 1}}


def test_a_retried_job_knows_when_its_last_attempt_ended(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    first = take(ledger, "1")
    assert first is not None
    assert first.previous_attempt_at is None
    ledger.retry(first, "down", max_attempts=5)
    second = take(ledger, "1")
    assert second is not None
    assert second.previous_attempt_at is not None


def test_a_dead_letter_is_replayed_with_its_attempts_from_zero(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    ledger.accept(n("2", sku_modified=True))
    for claimed in ledger.claim("catalog", ACME, 10):
        ledger.retry(claimed, "down", max_attempts=1)
    assert ledger.replay(ACME, "1") == [(ACME, "1", "catalog")]
    claimed = take(ledger, "1")
    assert claimed is not None
    assert (claimed.job.attempt, claimed.job.cause) == (0, "replay")
    assert [d.sku_id for d in ledger.dead_letters()] == ["2"]


def test_a_new_notification_revives_a_dead_letter(ledger: WorkLedger) -> None:
    ledger.accept(n("1", price_modified=True))
    claimed = take(ledger, "1")
    assert claimed is not None
    ledger.retry(claimed, "down", max_attempts=1)
    assert ledger.accept(n("1", stock_modified=True)) == (ACME, "1", "catalog")
    revived = take(ledger, "1")
    assert revived is not None
    assert revived.job.notification.price_modified  # what the dead letter carried stays
    assert revived.job.notification.stock_modified


def test_work_whose_worker_died_is_recovered_once_its_lease_runs_out(states: StateStore) -> None:
    ledger = WorkLedger(states.db, lease_seconds=1)
    ledger.accept(n("1", sku_modified=True))
    claimed = take(ledger, "1")
    assert claimed is not None
    assert ledger.recover() == []  # the lease still holds
    time.sleep(1.1)
    assert ledger.recover() == [(ACME, "1", "catalog")]
    assert ledger.finish(claimed) is None  # the dead worker's token no longer counts
    assert take(ledger, "1") is not None


def test_a_renewed_lease_keeps_the_work_from_being_recovered(states: StateStore) -> None:
    ledger = WorkLedger(states.db, lease_seconds=1)
    ledger.accept(n("1", sku_modified=True))
    claimed = take(ledger, "1")
    assert claimed is not None
    time.sleep(0.6)
    assert ledger.renew([claimed.token]) == 1
    time.sleep(0.6)
    assert ledger.recover() == []


def test_alone_on_its_queue_a_restarted_connector_takes_back_all_its_running_work(
    ledger: WorkLedger,
) -> None:
    ledger.accept(n("1", sku_modified=True))
    assert take(ledger, "1") is not None
    assert ledger.recover(everything=True) == [(ACME, "1", "catalog")]


# The queues: due rows claimed per context and store ----------------------------------------


def test_each_context_and_store_has_its_own_queue(ledger: WorkLedger, states: StateStore) -> None:
    listed(states, "2")
    ledger.accept(n("1", sku_modified=True))
    ledger.accept(n("2", price_modified=True))
    ledger.accept(Notification("3", "other", sku_modified=True))
    assert ledger.claim("inventory", ACME) == []
    assert skus(ledger.claim("price", ACME)) == ["2"]
    assert skus(ledger.claim("catalog", ACME)) == ["1"]
    assert skus(ledger.claim("catalog", "other")) == ["3"]
    assert ledger.claim("catalog", ACME) == []
    assert queue_name("price", ACME) == "sentoffers.price.acme"


def test_a_claim_takes_the_oldest_due_rows_up_to_its_limit(ledger: WorkLedger) -> None:
    for sku in ("1", "2", "3", "4", "5"):
        ledger.accept(n(sku, sku_modified=True))
        time.sleep(0.002)
    first = ledger.claim("catalog", ACME, 2)
    assert skus(first) == ["1", "2"]
    assert len({item.token for item in first}) == 1  # one lease for the rows of one claim
    assert skus(ledger.claim("catalog", ACME, 10)) == ["3", "4", "5"]
    assert ledger.queues([ACME])[queue_name("catalog", ACME)] == {
        "waiting": 0, "scheduled": 0, "running": 5,
    }  # fmt: skip


def test_a_retry_is_the_same_row_due_after_its_delay(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    claimed = take(ledger, "1")
    assert claimed is not None
    assert ledger.retry(claimed, "down", max_attempts=5, delay=0.5) == (ACME, "1", "catalog")
    assert take(ledger, "1") is None  # not due yet
    assert ledger.queues([ACME])[queue_name("catalog", ACME)] == {
        "waiting": 0, "scheduled": 1, "running": 0,
    }  # fmt: skip
    assert ledger.pending() == 1
    time.sleep(0.6)
    again = take(ledger, "1")
    assert again is not None
    assert again.job.attempt == 1


def test_a_lease_left_to_expire_makes_the_row_due_again(states: StateStore) -> None:
    ledger = WorkLedger(states.db, lease_seconds=1)
    ledger.accept(n("1", sku_modified=True))
    assert take(ledger, "1") is not None
    assert ledger.claim("catalog", ACME) == []  # running under its lease
    time.sleep(1.1)
    assert ledger.recover() == [(ACME, "1", "catalog")]
    assert ledger.queues([ACME])[queue_name("catalog", ACME)]["waiting"] == 1
    assert take(ledger, "1") is not None


def test_work_added_by_one_process_is_claimed_by_another(database_url: str) -> None:
    endpoint, worker = StateStore(database_url), StateStore(database_url)
    try:
        WorkLedger(endpoint.db).accept(n("1", sku_modified=True))
        assert take(WorkLedger(worker.db), "1") is not None
        assert take(WorkLedger(endpoint.db), "1") is None
    finally:
        endpoint.close()
        worker.close()


def test_queued_work_survives_the_process_that_wrote_it(database_url: str) -> None:
    before = StateStore(database_url)
    WorkLedger(before.db).accept(n("1", sku_modified=True))
    before.close()
    after = StateStore(database_url)
    try:
        assert take(WorkLedger(after.db), "1") is not None
    finally:
        after.close()


def test_a_ledger_made_before_due_times_is_brought_up_to_date(database_url: str) -> None:
    engine = create_db_engine(database_url)
    old = Table(
        "work_items", MetaData(),
        *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
          for c in work_items.columns if c.name != "due_at"),
    )  # fmt: skip
    old.create(engine)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            insert(old).values(
                account=ACME, sku_id="1", context="catalog", state="queued",
                notification='{"IdSku":"1","An":"acme","HasStockKeepingUnitModified":true}',
                cause="notification", attempt=0, received_at=_at(now), updated_at=_at(now),
            )
        )  # fmt: skip
    engine.dispose()
    states = StateStore(database_url)
    try:
        ledger = WorkLedger(states.db)
        names = {index["name"] for index in inspect(states.db.engine).get_indexes("work_items")}
        assert "ix_work_items_due" in names
        claimed = take(ledger, "1")
        assert claimed is not None
        assert claimed.job.notification.sku_modified
    finally:
        states.close()


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.mark.postgres
def test_claimers_sharing_a_postgresql_database_never_get_the_same_row(shared_url: str) -> None:
    rows = 400
    stores = [StateStore(shared_url) for _ in range(4)]
    ledgers = [WorkLedger(store.db) for store in stores]
    for sku in range(rows):
        ledgers[0].accept(n(str(sku), sku_modified=True))
    got: Counter[str] = Counter()
    start = threading.Barrier(len(ledgers))

    def claimer(ledger: WorkLedger) -> None:
        start.wait()
        while claimed := ledger.claim("catalog", ACME, 7):
            got.update(skus(claimed))

    threads = [threading.Thread(target=claimer, args=(ledger,)) for ledger in ledgers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for store in stores:
            store.close()
    assert len(got) == rows
    assert set(got.values()) == {1}, [sku for sku, count in got.items() if count > 1]

"""The work ledger and the durable queues, on real SQLite, PostgreSQL and Redis.

The ledger is what makes an acknowledged notification survive a crash; the queues (huey)
carry the work between processes. Tests are named after the rule they hold.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentoffers.connector.ledger import WorkLedger
from sentoffers.connector.model import Notification, SkuRecord, SkuState
from sentoffers.connector.queues import QueueBackend, queue_name
from sentoffers.connector.store import StateStore
from tests.support.redis import RedisServer

ACME = "acme"


@pytest.fixture
def states(database_url: str) -> Iterator[StateStore]:
    store = StateStore(database_url)
    yield store
    store.close()


@pytest.fixture
def ledger(states: StateStore) -> WorkLedger:
    return WorkLedger(states.db, lease_seconds=30)


def n(sku: str, **flags: bool) -> Notification:
    return Notification(sku, ACME, **flags)


def listed(states: StateStore, sku: str) -> None:
    states.save(SkuRecord(ACME, sku, SkuState.SYNCED, marketplace_id=f"MP-{sku}"))


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
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    assert claimed.job.notification.price_modified
    assert claimed.job.notification.stock_modified


def test_a_sku_is_never_handed_out_twice(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    assert ledger.claim(ACME, "1") is not None
    assert ledger.claim(ACME, "1") is None  # a second task for it finds nothing to do


def test_a_notification_for_a_running_sku_waits_until_the_work_ends(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    assert ledger.accept(n("1", is_active=False)) is None  # not queued while running
    assert ledger.claim(ACME, "1") is None
    routed = ledger.finish(claimed)
    assert routed == (ACME, "1", "catalog")
    again = ledger.claim(ACME, "1")
    assert again is not None
    assert not again.job.notification.is_active
    assert ledger.finish(again) is None
    assert ledger.pending() == 0


def test_work_not_answered_is_retried_then_becomes_a_dead_letter_with_its_reason(
    ledger: WorkLedger,
) -> None:
    ledger.accept(n("1", sku_modified=True))
    for attempt in range(3):
        claimed = ledger.claim(ACME, "1")
        assert claimed is not None
        assert claimed.job.attempt == attempt
        routed = ledger.retry(claimed, f"marketplace down ({attempt})", max_attempts=3)
        assert (routed is None) == (attempt == 2)
    assert ledger.claim(ACME, "1") is None
    [dead] = ledger.dead_letters()
    assert (dead.sku_id, dead.attempts, dead.reason) == ("1", 3, "marketplace down (2)")
    assert ledger.counts() == {"dead": {"catalog": 1}}


def test_a_retried_job_knows_when_its_last_attempt_ended(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    first = ledger.claim(ACME, "1")
    assert first is not None
    assert first.previous_attempt_at is None
    ledger.retry(first, "down", max_attempts=5)
    second = ledger.claim(ACME, "1")
    assert second is not None
    assert second.previous_attempt_at is not None


def test_a_dead_letter_is_replayed_with_its_attempts_from_zero(ledger: WorkLedger) -> None:
    ledger.accept(n("1", sku_modified=True))
    ledger.accept(n("2", sku_modified=True))
    for sku in ("1", "2"):
        claimed = ledger.claim(ACME, sku)
        assert claimed is not None
        ledger.retry(claimed, "down", max_attempts=1)
    assert ledger.replay(ACME, "1") == [(ACME, "1", "catalog")]
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    assert (claimed.job.attempt, claimed.job.cause) == (0, "replay")
    assert [d.sku_id for d in ledger.dead_letters()] == ["2"]


def test_a_new_notification_revives_a_dead_letter(ledger: WorkLedger) -> None:
    ledger.accept(n("1", price_modified=True))
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    ledger.retry(claimed, "down", max_attempts=1)
    assert ledger.accept(n("1", stock_modified=True)) == (ACME, "1", "catalog")
    revived = ledger.claim(ACME, "1")
    assert revived is not None
    assert revived.job.notification.price_modified  # what the dead letter carried stays
    assert revived.job.notification.stock_modified


def test_work_whose_worker_died_is_recovered_once_its_lease_runs_out(states: StateStore) -> None:
    ledger = WorkLedger(states.db, lease_seconds=1)
    ledger.accept(n("1", sku_modified=True))
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    assert ledger.recover() == []  # the lease still holds
    time.sleep(1.1)
    assert ledger.recover() == [(ACME, "1", "catalog")]
    assert ledger.finish(claimed) is None  # the dead worker's token no longer counts
    assert ledger.claim(ACME, "1") is not None


def test_a_renewed_lease_keeps_the_work_from_being_recovered(states: StateStore) -> None:
    ledger = WorkLedger(states.db, lease_seconds=1)
    ledger.accept(n("1", sku_modified=True))
    claimed = ledger.claim(ACME, "1")
    assert claimed is not None
    time.sleep(0.6)
    assert ledger.renew([claimed.token]) == 1
    time.sleep(0.6)
    assert ledger.recover() == []


def test_alone_on_its_queue_a_restarted_connector_takes_back_all_its_running_work(
    ledger: WorkLedger,
) -> None:
    ledger.accept(n("1", sku_modified=True))
    assert ledger.claim(ACME, "1") is not None
    assert ledger.recover(everything=True) == [(ACME, "1", "catalog")]


# The queues -----------------------------------------------------------------------------


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueBackend]:
    if request.param == "embedded":
        yield QueueBackend(f"sqlite:///{tmp_path / 'queue.db'}")
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    queues = QueueBackend(server.url)
    yield queues
    queues.flush()


def test_each_context_and_store_has_its_own_queue(backend: QueueBackend) -> None:
    backend.put((ACME, "1", "catalog"))
    backend.put((ACME, "2", "price"))
    backend.put(("other", "3", "catalog"))
    assert backend.take("inventory", ACME) is None
    assert backend.take("price", ACME) == (ACME, "2")
    assert backend.take("catalog", ACME) == (ACME, "1")
    assert backend.take("catalog", "other") == ("other", "3")
    assert backend.take("catalog", ACME) is None
    assert queue_name("price", ACME) == "sentoffers.price.acme"


def test_a_delayed_task_waits_in_the_schedule_until_it_is_due(backend: QueueBackend) -> None:
    backend.put((ACME, "1", "catalog"), delay=0.5)
    assert backend.move_due("catalog", ACME) == 0
    assert backend.take("catalog", ACME) is None
    assert backend.sizes([ACME])["sentoffers.catalog.acme"] == {"waiting": 0, "scheduled": 1}
    time.sleep(0.6)
    assert backend.move_due("catalog", ACME) == 1
    assert backend.take("catalog", ACME) == (ACME, "1")


def test_a_task_put_by_one_process_is_taken_by_another(backend: QueueBackend) -> None:
    other = QueueBackend(backend.url)  # a second connection, as a second process has
    backend.put((ACME, "1", "catalog"))
    assert other.take("catalog", ACME) == (ACME, "1")
    assert backend.take("catalog", ACME) is None


def test_an_embedded_queue_survives_the_process_that_wrote_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    QueueBackend(url).put((ACME, "1", "catalog"))
    assert QueueBackend(url).take("catalog", ACME) == (ACME, "1")


def test_a_queue_url_that_is_neither_sqlite_nor_redis_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported queue URL"):
        QueueBackend("amqp://localhost")

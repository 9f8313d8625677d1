"""Logs and closed interactions are purged after the retention period; offers keep their story."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select, update
from typer.testing import CliRunner

from sentoffers.cli import app as cli
from sentoffers.server.features.retention import PurgeReport, purge_expired
from sentoffers.server.store.tables import (
    error_occurrences,
    interactions,
    logs,
    offer_status_counts,
    offer_status_history,
    offers,
    unmapped_errors,
)
from sentoffers.sql.db import Database
from tests.integration.conftest import FEED, Api, Store

RETENTION = timedelta(days=10)
BATCH = f"/feeds/{FEED}/interactions/unified/batch"
KEPT_TABLES = (
    offers,
    offer_status_history,
    error_occurrences,
    unmapped_errors,
    offer_status_counts,
)


def unified(**extra: Any) -> dict[str, Any]:
    return {
        "source": "seller",
        "origin": "price",
        "context": "ongoing",
        "type": "success",
        "description": "price sent",
        "data": {"price": "9.90", "currency": "BRL"},
        **extra,
    }


def failed(api: Api, sku: str) -> dict[str, Any]:
    """A closed interaction that opened a mapped and an unmapped error on the offer."""
    response = api.unified(
        sku,
        unified(
            origin="catalog",
            type="failure",
            description="rejected",
            errors=[
                {"code": "CTLG-007", "title": "No image", "description": "the SKU has no image"},
                {"code": "MKT-XYZ", "title": "Odd", "description": "something the map lacks"},
            ],
        ),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def succeeded(api: Api, sku: str) -> dict[str, Any]:
    response = api.unified(sku, unified())
    assert response.status_code == 201, response.text
    return dict(response.json())


def moment() -> datetime:
    """A time strictly after everything written so far and before anything written next."""
    time.sleep(0.01)
    now = datetime.now(UTC)
    time.sleep(0.01)
    return now


def purge_before(db: Database, cutoff: datetime, **kwargs: Any) -> PurgeReport:
    """Purge what was received before ``cutoff``."""
    return purge_expired(db, RETENTION, cutoff + RETENTION, **kwargs)


def interaction_ids(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(interactions.c.id)).scalars())


def log_ids(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(select(logs.c.id)).scalars())


def rows(db: Database, table: Any) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def interaction_path(sku: str, interaction: str) -> str:
    return f"/feeds/{FEED}/skus/{sku}/interactions/{interaction}"


def test_logs_and_closed_interactions_older_than_the_cutoff_are_purged_and_newer_ones_stay(
    ready: Api, db: Database
) -> None:
    old = [succeeded(ready, "1"), failed(ready, "2")]
    cutoff = moment()
    new = [succeeded(ready, "1"), failed(ready, "3")]

    report = purge_before(db, cutoff)

    assert (report.logs, report.interactions, report.accounts) == (2, 2, 1)
    assert report.cutoff == cutoff
    assert interaction_ids(db) == {i["id"] for i in new}
    assert log_ids(db) == {i["logs"][0]["id"] for i in new}
    for interaction in new:
        shown = ready.get(interaction_path(interaction["skuId"], interaction["id"]))
        assert shown.status_code == 200
        assert [log["id"] for log in shown.json()["logs"]] == [interaction["logs"][0]["id"]]
    assert old[0]["id"] not in interaction_ids(db)


def test_a_purge_with_nothing_old_enough_deletes_nothing(ready: Api, db: Database) -> None:
    succeeded(ready, "1")
    report = purge_expired(db, RETENTION)
    assert (report.logs, report.interactions, report.transactions) == (0, 0, 0)
    assert len(interaction_ids(db)) == 1


def test_open_interactions_are_never_purged_though_their_old_logs_are(
    ready: Api, db: Database
) -> None:
    interaction = ready.open("1")
    old_log = ready.log("1", interaction, {"type": "information", "description": "working"})
    cutoff = moment()
    new_log = ready.log("1", interaction, {"type": "information", "description": "still"})

    report = purge_before(db, cutoff)

    assert (report.logs, report.interactions) == (1, 0)
    assert interaction in interaction_ids(db)
    assert log_ids(db) == {new_log.json()["id"]}
    assert old_log.json()["id"] not in log_ids(db)
    # Far in the future, every log goes and the open interaction still stays.
    far = purge_expired(db, RETENTION, datetime.now(UTC) + timedelta(days=365))
    assert (far.logs, far.interactions) == (1, 0)
    shown = ready.get(interaction_path("1", interaction))
    assert shown.status_code == 200
    assert (shown.json()["state"], shown.json()["logs"]) == ("open", [])


def test_a_closed_interaction_is_kept_until_its_close_is_older_than_the_cutoff(
    ready: Api, db: Database
) -> None:
    interaction = ready.open("1")
    ready.log("1", interaction, {"type": "success", "description": "sent"})
    cutoff = moment()
    assert ready.close("1", interaction).status_code == 204

    report = purge_before(db, cutoff)

    assert (report.logs, report.interactions) == (1, 0)
    assert interaction_ids(db) == {interaction}
    assert purge_before(db, moment()).interactions == 1
    assert interaction_ids(db) == set()


def test_offers_history_and_error_occurrences_stay_and_still_read(
    ready: Api, store: Store, db: Database
) -> None:
    failure = failed(ready, "1")
    succeeded(ready, "2")
    before = {table.name: rows(db, table) for table in KEPT_TABLES}
    assert before["error_occurrences"]
    assert before["unmapped_errors"]

    report = purge_expired(db, RETENTION, datetime.now(UTC) + timedelta(days=30))

    assert (report.logs, report.interactions) == (2, 2)
    assert interaction_ids(db) == set()
    assert log_ids(db) == set()
    assert {table.name: rows(db, table) for table in KEPT_TABLES} == before
    assert store.status("1") == "error"
    assert store.offer("1")["last_interaction_id"] == failure["id"]
    errors = store.open_errors("1")
    assert [(e["code"], e["title"], e["origin"]) for e in errors] == [
        ("CTLG-007", "No image", "catalog"),
        ("MKT-XYZ", "Odd", "catalog"),
    ]
    assert all(e["interaction_id"] == failure["id"] and e["date"] for e in errors)
    assert [h["to_status"] for h in store.history("1")] == ["sending", "error"]
    assert {h["interaction_id"] for h in store.history("1")} == {failure["id"]}


def test_no_log_outlives_its_interaction(ready: Api, db: Database) -> None:
    for sku in "12345":
        succeeded(ready, sku)
    interaction = ready.open("6")
    ready.log("6", interaction, {"type": "information", "description": "working"})
    assert ready.close("6", interaction).status_code == 204
    # A log received after the cutoff on an interaction closed before it cannot happen
    # through the API; made by hand, it still goes with its interaction.
    cutoff = moment()
    with db.engine.begin() as conn:
        conn.execute(
            update(logs)
            .where(logs.c.interaction_id == interaction)
            .values(created_at=cutoff + timedelta(hours=1))
        )

    report = purge_before(db, cutoff, chunk_rows=2)

    assert (report.logs, report.interactions) == (6, 6)
    with db.engine.connect() as conn:
        orphans = conn.execute(
            select(func.count())
            .select_from(logs)
            .where(
                ~select(interactions.c.id)
                .where(
                    interactions.c.account == logs.c.account,
                    interactions.c.id == logs.c.interaction_id,
                )
                .exists()
            )
        ).scalar_one()
    assert orphans == 0
    assert log_ids(db) == set()


@pytest.fixture
def deletes(db: Database) -> Iterator[list[int]]:
    """How many rows each DELETE statement removed, in order."""
    counted: list[int] = []

    def count(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            counted.append(cursor.rowcount)

    event.listen(db.engine, "after_cursor_execute", count)
    yield counted
    event.remove(db.engine, "after_cursor_execute", count)


def test_a_purge_deletes_in_chunks_of_at_most_chunk_rows_rows_per_transaction(
    ready: Api, db: Database, deletes: list[int]
) -> None:
    response = ready.post(BATCH, [{"skuId": str(n), **unified()} for n in range(10)])
    assert response.json()["succeeded"] == 10

    report = purge_expired(db, RETENTION, datetime.now(UTC) + timedelta(days=30), chunk_rows=3)

    assert (report.logs, report.interactions) == (10, 10)
    # Logs 3+3+3+1, then interactions 3+3+3+1, each chunk a transaction of its own.
    assert report.transactions == 8
    assert deletes == [3, 3, 3, 1, 3, 3, 3, 1]
    assert interaction_ids(db) == set()
    assert log_ids(db) == set()


def test_a_purge_works_account_by_account(make_api: Any, db: Database) -> None:
    apis = [make_api(account=account) for account in ("acme", "globex", "initech")]
    for api in apis:
        assert api.channel().status_code in (201, 409)
        assert api.activate().status_code == 201
    for api in apis[:2]:
        succeeded(api, "1")
        succeeded(api, "2")
    apis[2].open("1")

    report = purge_expired(db, RETENTION, datetime.now(UTC) + timedelta(days=30), chunk_rows=1)

    assert (report.logs, report.interactions, report.accounts) == (4, 4, 2)
    with db.engine.connect() as conn:
        left = conn.execute(select(interactions.c.account)).scalars().all()
    assert left == ["initech"]


def test_a_purge_refuses_a_retention_or_chunk_that_is_not_positive(db: Database) -> None:
    with pytest.raises(ValueError, match="retention"):
        purge_expired(db, timedelta(0))
    with pytest.raises(ValueError, match="chunk_rows"):
        purge_expired(db, RETENTION, chunk_rows=0)


def test_get_interaction_of_a_purged_interaction_answers_410_and_an_unknown_one_404(
    ready: Api, db: Database
) -> None:
    purged = failed(ready, "1")
    kept_open = ready.open("1")
    purge_expired(db, RETENTION, datetime.now(UTC) + timedelta(days=30))

    gone = ready.get(interaction_path("1", purged["id"]))
    assert gone.status_code == 410
    [problem] = gone.json()["errors"]
    assert problem["code"] == "interaction_expired"
    assert problem["field"] == "interactionId"
    assert "10 days" in problem["message"]
    assert "expired" in problem["message"]

    log = ready.get(interaction_path("1", purged["id"]) + f"/logs/{purged['logs'][0]['id']}")
    assert log.status_code == 410
    assert log.json()["errors"][0]["code"] == "interaction_expired"

    unknown = "ABCDEF0123456789ABCDEF0123456789"
    assert ready.get(interaction_path("1", unknown)).status_code == 404
    assert ready.get(interaction_path("1", unknown) + "/logs/" + unknown).status_code == 404
    # The purged id names SKU 1's history only: under another SKU it is simply unknown.
    succeeded(ready, "2")
    assert ready.get(interaction_path("2", purged["id"])).status_code == 404
    # A log that is unknown in an interaction that still exists stays 404.
    assert ready.get(interaction_path("1", kept_open) + "/logs/" + unknown).status_code == 404


def test_the_purge_command_says_what_it_deleted(
    ready: Api, db: Database, database_url: str
) -> None:
    succeeded(ready, "1")
    failed(ready, "2")
    kept = ready.open("3")
    time.sleep(0.2)  # older than the 0.0864 s kept below

    runner = CliRunner()
    result = runner.invoke(
        cli, ["purge", "--database-url", database_url, "--retention-days", "0.000001"]
    )

    assert result.exit_code == 0, result.output
    assert "purged 2 log(s) and 2 closed interaction(s)" in result.output
    assert interaction_ids(db) == {kept}
    again = runner.invoke(cli, ["purge", "--database-url", database_url])
    assert again.exit_code == 0, again.output
    assert "purged 0 log(s) and 0 closed interaction(s)" in again.output
    refused = runner.invoke(cli, ["purge", "--database-url", database_url, "--retention-days", "0"])
    assert refused.exit_code == 2


def test_reads_keep_answering_while_a_purge_runs(ready: Api, db: Database) -> None:
    for start in range(0, 3000, 1000):
        items = [{"skuId": f"old-{n}", **unified()} for n in range(start, start + 1000)]
        assert ready.post(BATCH, items).json()["succeeded"] == 1000
    cutoff = moment()
    kept = [succeeded(ready, f"new-{n}") for n in range(5)]

    outcome: list[PurgeReport | BaseException] = []

    def run() -> None:
        try:
            outcome.append(purge_before(db, cutoff, chunk_rows=50))
        except BaseException as error:  # reported to the test thread below
            outcome.append(error)

    purge = threading.Thread(target=run)
    purge.start()
    statuses: list[int] = []
    while purge.is_alive() or not statuses:
        interaction = kept[len(statuses) % len(kept)]
        statuses.append(
            ready.get(interaction_path(interaction["skuId"], interaction["id"])).status_code
        )
    purge.join()

    [report] = outcome
    assert isinstance(report, PurgeReport), report
    assert (report.logs, report.interactions) == (3000, 3000)
    assert report.transactions == 120
    assert len(statuses) > 1
    assert set(statuses) == {200}
    assert interaction_ids(db) == {i["id"] for i in kept}

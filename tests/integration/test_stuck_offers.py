"""Offers stuck in Sending are found and shown, through the HTTP API.

An offer is stuck when it has been in Sending longer than ``SENTOFFERS_STUCK_AFTER_SECONDS``.
The tests move the time an offer entered Sending into the past in the store, as an hour
going by would. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from sentoffers.server.app import create_app
from sentoffers.server.settings import Settings
from sentoffers.server.store.tables import offers
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, Api, report

OFFERS = "/offers"


def sending(api: Api, sku: str) -> None:
    """A new SKU whose connector only ever said it is sending: it stays in Sending."""
    interaction = api.open(sku, context="ongoing")
    response = api.log(
        sku,
        interaction,
        {"type": "Info", "description": "sending", "agent": "c", "data": {"status": "Sending"}},
    )
    assert response.status_code == 201, response.text


def entered_status(db: Database, sku: str, ago: timedelta) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(offers)
            .where(offers.c.account == ACCOUNT, offers.c.sku_id == sku)
            .values(status_since=datetime.now(UTC) - ago)
        )


def listed(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get(OFFERS, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_offer_in_sending_longer_than_the_stuck_time_is_stuck(ready: Api, db: Database) -> None:
    sending(ready, "old")
    sending(ready, "new")
    entered_status(db, "old", timedelta(hours=2))

    items = {o["skuId"]: o for o in listed(ready)["items"]}

    assert items["old"]["stuck"] is True
    assert items["new"]["stuck"] is False
    assert items["old"]["status"] == items["new"]["status"] == "sending"
    assert items["old"]["sendingSince"] < items["new"]["sendingSince"]


def test_stuck_filter_lists_exactly_the_stuck_offers(ready: Api, db: Database) -> None:
    for sku in ("s1", "s2", "fresh"):
        sending(ready, sku)
    report(ready, "done")  # synced
    entered_status(db, "s1", timedelta(hours=3))
    entered_status(db, "s2", timedelta(hours=1))
    entered_status(db, "done", timedelta(days=2))  # long Synced is not stuck

    page = listed(ready, stuck="true")

    assert [o["skuId"] for o in page["items"]] == ["s1", "s2"]  # longest stuck first
    assert all(o["stuck"] for o in page["items"])
    assert page["paging"]["total"] == 2
    assert page["counts"]["stuck"] == page["counts"]["sending"] == 2
    others = listed(ready, stuck="false")
    assert sorted(o["skuId"] for o in others["items"]) == ["done", "fresh"]
    assert others["counts"]["stuck"] == 0


def test_counts_per_status_carry_the_stuck_count(ready: Api, db: Database) -> None:
    for sku in ("sku-one", "sku-two", "sku-three"):
        sending(ready, sku)
    report(ready, "ok")
    entered_status(db, "sku-one", timedelta(hours=1))
    entered_status(db, "sku-two", timedelta(hours=1))

    counts = listed(ready)["counts"]
    by_channel = listed(ready, channel=FEED)["counts"]
    by_search = listed(ready, q="one")["counts"]

    assert counts == {"synced": 1, "sending": 3, "error": 0, "unavailable": 0, "stuck": 2}
    assert by_channel["stuck"] == 2
    assert by_search["stuck"] == 1


def test_stuck_filter_combines_with_status_and_error_filters(ready: Api, db: Database) -> None:
    sending(ready, "stuck")
    entered_status(db, "stuck", timedelta(hours=1))
    report(ready, "broken", "failure", errors=[{"code": "CTLG-005", "description": "too long"}])

    assert listed(ready, stuck="true", status="error")["items"] == []
    assert [o["skuId"] for o in listed(ready, stuck="true", status="sending")["items"]] == ["stuck"]
    assert listed(ready, stuck="true", errorCode="CTLG-005")["items"] == []


def test_an_offer_that_moves_on_is_no_longer_stuck(ready: Api, db: Database) -> None:
    sending(ready, "sku")
    entered_status(db, "sku", timedelta(hours=1))
    assert listed(ready, stuck="true")["paging"]["total"] == 1

    report(ready, "sku", "information", status="Synchronized")

    page = listed(ready, stuck="true")
    assert page["items"] == []
    assert page["counts"]["stuck"] == 0
    assert listed(ready)["items"][0]["status"] == "synced"


def test_offer_details_say_since_when_and_the_last_report(ready: Api, db: Database) -> None:
    sending(ready, "sku")
    entered_status(db, "sku", timedelta(hours=1))

    response = ready.get(f"/feeds/{FEED}/skus/sku")

    assert response.status_code == 200, response.text
    offer = response.json()
    assert offer["stuck"] is True
    assert offer["sendingSince"] == offer["statusSince"]
    last = offer["lastReport"]
    assert last["type"] == "information"
    assert last["description"] == "sending"
    assert last["interactionState"] == "open"


def test_stuck_time_is_a_setting(ready: Api, db: Database, settings: Settings) -> None:
    sending(ready, "sku")
    entered_status(db, "sku", timedelta(hours=1))
    patient = settings.model_copy(update={"stuck_after_seconds": 2 * 3600})

    with TestClient(create_app(patient, db)) as client:
        later = Api(client, ready.headers["X-VTEX-API-AppKey"],
                    ready.headers["X-VTEX-API-AppToken"], ACCOUNT)  # fmt: skip
        page = listed(later)

    assert page["items"][0]["stuck"] is False
    assert page["counts"]["stuck"] == 0
    assert listed(ready)["counts"]["stuck"] == 1  # the default: 30 minutes


def test_bad_stuck_value_is_a_clear_400(ready: Api) -> None:
    response = ready.get(OFFERS, params={"stuck": "maybe"})

    assert response.status_code == 400
    assert "stuck" in response.text

"""Interactions left open are closed by the service, so no offer stays in Sending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sentoffers.server.features.interactions.idle import close_idle_interactions
from sentoffers.sql.db import Database
from tests.integration.conftest import FEED, Api, Store

DAY = timedelta(hours=24)


def test_idle_interaction_is_closed_with_an_information_log(
    ready: Api, store: Store, db: Database
) -> None:
    interaction = ready.open("1")
    assert close_idle_interactions(db, DAY, datetime.now(UTC) + timedelta(hours=23)) == 0
    assert close_idle_interactions(db, DAY, datetime.now(UTC) + timedelta(hours=25)) == 1
    shown = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}").json()
    assert (shown["state"], shown["result"]) == ("closed", "notification")
    [log] = shown["logs"]
    assert log["type"] == "information"
    assert "Closed by the service" in log["description"]
    assert store.status("1") == "unavailable"
    assert "never sent" in store.history("1")[-1]["reason"]


def test_idle_close_returns_an_offer_to_its_status_before_sending(
    ready: Api, store: Store, db: Database
) -> None:
    ready.unified(
        "1",
        {"source": "seller", "origin": "catalog", "context": "setup", "type": "success"},
    )
    ready.open("1", context="setup")
    assert store.status("1") == "sending"
    close_idle_interactions(db, DAY, datetime.now(UTC) + timedelta(days=2))
    assert store.status("1") == "synced"


def test_a_log_keeps_an_interaction_from_being_idle(ready: Api, db: Database) -> None:
    interaction = ready.open("1")
    ready.log("1", interaction, {"type": "information", "description": "still working"})
    assert close_idle_interactions(db, DAY, datetime.now(UTC) + timedelta(hours=23)) == 0

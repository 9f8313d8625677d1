"""The domain rules, observed through the HTTP API and the store, on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from sentoffers.server.store.tables import offer_status_counts
from sentoffers.sql.db import Database
from tests.integration.conftest import FEED, Api, Store

FAILURE = {
    "type": "failure",
    "description": "SKU rejected",
    "agent": "connector",
    "errors": [
        {
            "code": "CTLG-006-001",
            "title": "Description includes HTML",
            "description": "No HTML allowed",
            "closableOrigins": ["catalog"],
        },
        {"code": "PRICE-001", "title": "Price below minimum", "closableOrigins": ["price"]},
    ],
}


def success(**data: Any) -> dict[str, Any]:
    return {"type": "success", "description": "done", "agent": "connector", "data": data}


def test_first_interaction_creates_the_offer_in_sending(ready: Api, store: Store) -> None:
    ready.open("1", context="ongoing")
    assert store.status("1") == "sending"
    [created] = store.history("1")
    assert (created["from_status"], created["to_status"]) == (None, "sending")


def test_open_interaction_answers_processing_and_open(ready: Api) -> None:
    response = ready.post(
        f"/feeds/{FEED}/skus/1/interactions",
        {"startDate": "2020-10-29", "source": "seller", "origin": "catalog", "context": "setup"},
    )
    body = response.json()
    assert response.status_code == 201
    assert (body["result"], body["state"], body["logs"]) == ("processing", "open", [])
    assert len(body["id"]) == 32
    assert body["id"] == body["id"].upper()
    assert body["startDate"] == "2020-10-29T00:00:00.000Z"


def test_failure_log_opens_its_errors_and_puts_the_offer_in_error(ready: Api, store: Store) -> None:
    interaction = ready.open("1")
    response = ready.log("1", interaction, FAILURE)
    assert response.status_code == 201
    assert store.status("1") == "error"
    errors = store.open_errors("1")
    assert [(e["code"], e["error_code_id"]) for e in errors] == [
        ("CTLG-006-001", "CTLG-006"),
        ("PRICE-001", "PRICE-001"),
    ]
    change = store.history("1")[-1]
    assert (change["to_status"], change["interaction_id"], change["log_id"]) == (
        "error",
        interaction,
        response.json()["id"],
    )


def test_success_close_closes_errors_of_its_origin_only(ready: Api, store: Store) -> None:
    failing = ready.open("1")
    ready.log("1", failing, FAILURE)
    ready.close("1", failing)
    fixing = ready.open("1", origin="catalog", context="ongoing")
    ready.log("1", fixing, success())
    assert ready.close("1", fixing).status_code == 204
    assert [e["code"] for e in store.open_errors("1")] == ["PRICE-001"]
    assert store.status("1") == "error"
    pricing = ready.open("1", origin="price", context="ongoing")
    ready.log("1", pricing, success(price="10.0", currency="BRL"))
    ready.close("1", pricing)
    assert store.open_errors("1") == []
    assert store.status("1") == "synced"
    offer = store.offer("1")
    assert (offer["price"], offer["currency"]) == ("10.0", "BRL")


def test_close_result_follows_the_logs(ready: Api) -> None:
    cases = {"failure": [FAILURE], "success": [success()], "notification": []}
    for expected, bodies in cases.items():
        interaction = ready.open(expected)
        for body in [{"type": "information", "description": "step"}, *bodies]:
            assert ready.log(expected, interaction, body).status_code == 201
        ready.close(expected, interaction)
        shown = ready.get(f"/feeds/{FEED}/skus/{expected}/interactions/{interaction}").json()
        assert (shown["state"], shown["result"]) == ("closed", expected)


def test_notification_with_unavailable_data_makes_the_offer_unavailable(
    ready: Api, store: Store
) -> None:
    response = ready.unified(
        "1",
        {
            "source": "seller",
            "origin": "catalog",
            "context": "ongoing",
            "type": "information",
            "description": "SKU is outside the trade policy",
            "data": {"status": "disabled"},
        },
    )
    assert response.json()["offerStatus"] == "unavailable"
    assert store.status("1") == "unavailable"


def test_setup_interaction_puts_a_synced_offer_in_sending_but_not_an_offer_in_error(
    ready: Api, store: Store
) -> None:
    body = {"source": "seller", "origin": "catalog", "context": "setup"}
    ready.unified("1", {**body, **success()})
    assert store.status("1") == "synced"
    ready.open("1", context="setup")
    assert store.status("1") == "sending"
    ready.unified("2", {**body, **FAILURE})
    ready.open("2", context="setup")
    assert store.status("2") == "error"


def test_logs_to_a_closed_interaction_and_closing_twice_are_conflicts(ready: Api) -> None:
    interaction = ready.open("1")
    assert ready.close("1", interaction).status_code == 204
    again = ready.close("1", interaction)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "interaction_closed"
    late = ready.log("1", interaction, {"type": "information", "description": "late"})
    assert late.status_code == 409


def test_unknown_code_is_kept_as_sent_classified_unmapped_and_said_so(
    ready: Api, store: Store
) -> None:
    interaction = ready.open("1")
    response = ready.log(
        "1",
        interaction,
        {
            "type": "failure",
            "description": "channel said no",
            "errors": {"code": "MELI-4031", "description": "Item 123 rejected by rule 7"},
        },
    )
    body = response.json()
    assert response.status_code == 201
    assert body["errors"][0]["code"] == "MELI-4031"
    assert (body["errors"][0]["errorCodeId"], body["errors"][0]["mapped"]) == ("NTMAP-001", False)
    assert body["warnings"][0]["code"] == "unmapped_error_code"
    assert body["warnings"][0]["field"] == "errors[0].code"
    [error] = store.open_errors("1")
    assert (error["code"], error["error_code_id"]) == ("MELI-4031", "NTMAP-001")
    assert error["fingerprint"]


def test_create_log_answers_json_with_utf8_charset(ready: Api) -> None:
    interaction = ready.open("1")
    response = ready.log("1", interaction, {"type": "information", "description": "é"})
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_get_interaction_lists_its_logs_in_timeline_order(ready: Api) -> None:
    interaction = ready.open("1")
    for description, date in [
        ("second", "2024-03-01T10:00:01Z"),
        ("first", "2024-03-01T10:00:00Z"),
    ]:
        ready.log(
            "1", interaction, {"type": "information", "description": description, "date": date}
        )
    ready.log(
        "1",
        interaction,
        {"type": "information", "description": "third", "date": "2024-03-01T10:00:01Z"},
    )
    logs = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}").json()["logs"]
    assert [log["description"] for log in logs] == ["first", "second", "third"]
    assert {log["type"] for log in logs} == {"information"}


def test_get_log_answers_the_log_with_its_errors(ready: Api) -> None:
    interaction = ready.open("1")
    log_id = ready.log("1", interaction, FAILURE).json()["id"]
    response = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}/logs/{log_id}")
    body = response.json()
    assert response.status_code == 200
    assert body["type"] == "failure"
    assert [e["code"] for e in body["errors"]] == ["CTLG-006-001", "PRICE-001"]
    assert body["errors"][0]["closableOrigins"] == ["catalog"]
    other = ready.get(f"/feeds/{FEED}/skus/2/interactions/{interaction}/logs/{log_id}")
    assert other.status_code == 404


def test_unified_contract_opens_logs_once_and_closes(ready: Api, store: Store) -> None:
    response = ready.unified(
        "1",
        {
            "date": "2021-10-15T16:20:19.561754Z",
            "source": "channel",
            "origin": "catalog",
            "context": "ongoing",
            "description": "Info example",
            "type": "success",
            "agent": "My-Conector",
        },
    )
    body = response.json()
    assert response.status_code == 201
    assert (body["state"], body["result"], body["offerStatus"]) == ("closed", "success", "synced")
    assert [log["description"] for log in body["logs"]] == ["Info example"]
    shown = ready.get(f"/feeds/{FEED}/skus/1/interactions/{body['id']}").json()
    assert shown["result"] == "success"
    assert len(shown["logs"]) == 1
    assert store.status("1") == "synced"


def test_optional_fields_left_out_are_omitted_not_null(ready: Api) -> None:
    interaction = ready.open("1")
    created = ready.log(
        "1",
        interaction,
        {"type": "failure", "errors": [{"code": "CTLG-001"}], "evidence": {"request": "r"}},
    ).json()
    shown = ready.get(
        f"/feeds/{FEED}/skus/1/interactions/{interaction}/logs/{created['id']}"
    ).json()
    for body in (created, shown):
        assert body["evidence"] == {"request": "r"}
        assert "data" not in body
        assert body["errors"][0] == {
            "code": "CTLG-001",
            "closableOrigins": [],
            "errorCodeId": "CTLG-001",
            "mapped": True,
        }
    opened = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}").json()
    assert "closedAt" not in opened


def test_status_counts_follow_every_status_change(ready: Api, db: Database) -> None:
    body = {"source": "seller", "origin": "catalog", "context": "ongoing"}
    ready.unified("1", {**body, **success()})
    ready.unified("2", {**body, **FAILURE})
    ready.unified("3", {**body, "type": "information"})
    ready.unified("1", {**body, **FAILURE})
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(offer_status_counts.c.status, offer_status_counts.c.offers).where(
                offer_status_counts.c.feed_id == FEED
            )
        ).all()
    counts = {status: n for status, n in rows if n}
    assert counts == {"error": 2, "sending": 1}
    assert sum(n for _, n in rows) == 3

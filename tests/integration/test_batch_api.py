"""The unified contract's batch form: one response, a result per item, bad items alone."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import FEED, Api, Store

BATCH = f"/feeds/{FEED}/interactions/unified/batch"


def item(sku: str, **extra: Any) -> dict[str, Any]:
    return {
        "skuId": sku,
        "source": "seller",
        "origin": "price",
        "context": "ongoing",
        "type": "success",
        "description": "price sent",
        "data": {"price": "9.90", "currency": "BRL"},
        **extra,
    }


def test_batch_answers_a_result_per_item_in_order_and_a_bad_item_fails_alone(
    ready: Api, store: Store
) -> None:
    items = [item("1"), {"skuId": "2", "type": "nonsense"}, item("3"), "not an object"]
    response = ready.post(BATCH, items)
    body = response.json()
    assert response.status_code == 200
    assert (body["succeeded"], body["failed"]) == (2, 2)
    assert [r["index"] for r in body["items"]] == [0, 1, 2, 3]
    assert [r["status"] for r in body["items"]] == [201, 400, 201, 400]
    assert body["items"][0]["offerStatus"] == "synced"
    assert {e["field"] for e in body["items"][1]["errors"]} >= {"type", "source"}
    assert store.status("1") == "synced"
    assert store.offer("3")["price"] == "9.90"


def test_batch_applies_items_of_one_sku_in_order(ready: Api, store: Store) -> None:
    failure = item(
        "1",
        type="failure",
        origin="catalog",
        errors=[{"code": "CTLG-007", "title": "No image"}],
    )
    response = ready.post(BATCH, [failure, item("1", origin="catalog")])
    assert [r["offerStatus"] for r in response.json()["items"]] == ["error", "synced"]
    assert store.open_errors("1") == []
    assert [h["to_status"] for h in store.history("1")] == ["sending", "error", "synced"]


def test_batch_over_the_item_limit_or_empty_is_refused(ready: Api) -> None:
    too_many = ready.post(BATCH, [item(str(n)) for n in range(1001)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "batch_too_large"
    assert ready.post(BATCH, []).status_code == 400
    assert ready.post(BATCH, {"skuId": "1"}).status_code == 400


def test_batch_to_a_deactivated_feed_is_a_conflict(ready: Api) -> None:
    ready.request("DELETE", f"/feeds/{FEED}")
    assert ready.post(BATCH, [item("1")]).status_code == 409


def test_batch_of_a_thousand_items_is_written_whole(ready: Api, store: Store) -> None:
    response = ready.post(BATCH, [item(str(n)) for n in range(1000)])
    assert response.json()["succeeded"] == 1000
    assert store.status("999") == "synced"


# --- items with several logs --------------------------------------------------------------


def several(sku: str, logs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A batch item with several logs, for ``sku``."""
    return {
        "skuId": sku,
        "source": "channel",
        "origin": "catalog",
        "context": "setup",
        "logs": logs,
        **extra,
    }


def interaction(api: Api, sku: str, interaction_id: str) -> dict[str, Any]:
    response = api.get(f"/feeds/{FEED}/skus/{sku}/interactions/{interaction_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


STEPS = [
    {
        "type": "information",
        "description": "SKU validated",
        "date": "2024-03-01T10:00:00Z",
        "evidence": {"request": "GET /sku/1", "response": "200"},
    },
    # As the .NET SDK writes it: PascalCase, "Info", a number for a string.
    {
        "Type": "Info",
        "Message": "Price read",
        "Date": "2024-03-01T10:00:01Z",
        "Data": {"Price": 12},
    },
    {"type": "warning", "description": "Throttled, retried", "date": "2024-03-01T10:00:02Z"},
    {
        "type": "success",
        "description": "Offer sent",
        "date": "2024-03-01T10:00:03Z",
        "agent": "connector",
        "data": {"externalOfferId": "MKT-1"},
    },
]


def test_an_item_with_several_logs_appends_them_in_order_and_closes_with_success(
    ready: Api, store: Store
) -> None:
    response = ready.post(BATCH, [several("1", STEPS)])
    assert response.status_code == 200
    [result] = response.json()["items"]
    assert (result["status"], result["result"], result["offerStatus"]) == (201, "success", "synced")
    assert len(result["logIds"]) == 4
    assert result["logId"] == result["logIds"][-1]

    stored = interaction(ready, "1", result["interactionId"])
    assert (stored["state"], stored["result"]) == ("closed", "success")
    # With no startDate, the interaction began with its earliest log.
    assert stored["startDate"] == "2024-03-01T10:00:00.000Z"
    assert [log["id"] for log in stored["logs"]] == result["logIds"]
    assert [(log["type"], log["date"]) for log in stored["logs"]] == [
        ("information", "2024-03-01T10:00:00.000Z"),
        ("information", "2024-03-01T10:00:01.000Z"),
        ("warning", "2024-03-01T10:00:02.000Z"),
        ("success", "2024-03-01T10:00:03.000Z"),
    ]
    assert stored["logs"][0]["evidence"] == {"request": "GET /sku/1", "response": "200"}
    assert stored["logs"][1]["description"] == "Price read"
    offer = store.offer("1")
    assert (offer["status"], offer["price"], offer["external_offer_id"]) == (
        "synced",
        "12",
        "MKT-1",
    )


def test_a_failure_log_inside_an_item_opens_its_errors_and_puts_the_offer_in_error(
    ready: Api, store: Store
) -> None:
    logs = [
        {"type": "information", "description": "SKU read"},
        {"type": "failure", "description": "Refused", "errors": [{"code": "CTLG-007"}]},
        {"type": "success", "description": "Sent anyway"},
    ]
    [result] = ready.post(BATCH, [several("1", logs, startDate="2024-02-01")]).json()["items"]
    assert (result["status"], result["result"], result["offerStatus"]) == (201, "failure", "error")
    assert [e["code"] for e in store.open_errors("1")] == ["CTLG-007"]
    assert store.open_errors("1")[0]["log_id"] == result["logIds"][1]
    stored = interaction(ready, "1", result["interactionId"])
    assert stored["startDate"] == "2024-02-01T00:00:00.000Z"


def test_items_of_one_sku_with_several_logs_apply_in_order(ready: Api, store: Store) -> None:
    failing = several(
        "1",
        [
            {"type": "information", "description": "SKU read"},
            {"type": "failure", "description": "No image", "errors": {"code": "CTLG-007"}},
        ],
    )
    fixed = several(
        "1",
        [
            {"type": "information", "description": "Image added"},
            {"type": "success", "description": "Offer sent"},
        ],
    )
    response = ready.post(BATCH, [failing, fixed])
    assert [(r["result"], r["offerStatus"]) for r in response.json()["items"]] == [
        ("failure", "error"),
        ("success", "synced"),
    ]
    assert store.open_errors("1") == []
    assert [h["to_status"] for h in store.history("1")] == ["sending", "error", "synced"]


def test_an_item_with_only_information_logs_closes_as_a_notification(
    ready: Api, store: Store
) -> None:
    logs = [{"type": "info", "description": "seen"}, {"type": "warning", "description": "slow"}]
    [result] = ready.post(BATCH, [several("1", logs)]).json()["items"]
    assert (result["result"], result["offerStatus"]) == ("notification", "sending")


def test_an_item_with_both_forms_empty_logs_or_neither_fails_alone_with_the_problem(
    ready: Api, store: Store
) -> None:
    steps = [{"type": "success", "description": "sent"}]
    items = [
        several("1", steps, type="success", description="top level"),
        several("2", []),
        {"skuId": "3", "source": "seller", "origin": "price", "context": "ongoing"},
        several("4", steps),
    ]
    body = ready.post(BATCH, items).json()
    assert (body["succeeded"], body["failed"]) == (1, 3)
    both, empty, neither, good = body["items"]
    assert [r["status"] for r in body["items"]] == [400, 400, 400, 201]
    assert {e["field"] for e in both["errors"]} == {"type", "description"}
    assert "not at its top level" in both["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("logs", "invalid")]
    assert "at least one log" in empty["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in neither["errors"]] == [("type", "required")]
    assert "logs" in neither["errors"][0]["message"]
    assert (good["logIds"], both["logIds"]) == ([good["logId"]], [])
    assert store.status("4") == "synced"


def test_a_bad_log_inside_an_item_fails_that_item_alone_with_every_problem_listed(
    ready: Api, store: Store
) -> None:
    bad_logs = [
        {"type": "information", "description": "read"},
        {"type": "failure", "errors": [{"title": "no code"}]},
        {"type": "nonsense"},
    ]
    body = ready.post(
        BATCH, [several("1", bad_logs, origin="shipping"), several("2", STEPS)]
    ).json()
    bad, good = body["items"]
    assert (bad["status"], good["status"]) == (400, 201)
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {
        ("origin", "invalid"),
        ("logs[1].errors[0].code", "required"),
        ("logs[2].type", "invalid"),
    }
    assert "interactionId" not in bad
    assert store.history("1") == []
    assert store.status("2") == "synced"


def test_an_item_over_the_log_limit_fails_alone(ready: Api) -> None:
    logs = [{"type": "information", "description": str(n)} for n in range(101)]
    body = ready.post(BATCH, [several("1", logs), several("2", logs[:100])]).json()
    assert [r["status"] for r in body["items"]] == [400, 201]
    assert body["items"][0]["errors"][0]["field"] == "logs"
    assert len(body["items"][1]["logIds"]) == 100


def test_an_unmapped_code_inside_an_item_warns_naming_its_log(ready: Api) -> None:
    logs = [
        {"type": "information", "description": "read"},
        {"type": "failure", "errors": [{"code": "ACME-1", "description": "Refused"}]},
    ]
    [result] = ready.post(BATCH, [several("1", logs)]).json()["items"]
    assert result["status"] == 201
    assert [(w["code"], w["field"]) for w in result["warnings"]] == [
        ("unmapped_error_code", "logs[1].errors[0].code")
    ]


def test_single_log_items_answer_as_before_with_their_one_log_id(ready: Api) -> None:
    [result] = ready.post(BATCH, [item("1")]).json()["items"]
    assert result["logIds"] == [result["logId"]]
    assert (result["status"], result["result"], result["offerStatus"]) == (201, "success", "synced")


def test_a_refused_item_names_its_sku_in_any_spelling_even_as_a_number(ready: Api) -> None:
    body = ready.post(BATCH, [{"skuId": 7, "type": "nonsense"}, {"SkuId": "8"}, {"sku": True}])
    assert body.status_code == 200
    assert [(r["status"], r.get("skuId")) for r in body.json()["items"]] == [
        (400, "7"),
        (400, "8"),
        (400, None),
    ]


def test_an_item_with_a_blank_sku_fails_alone_and_a_padded_one_is_written_trimmed(
    ready: Api, store: Store
) -> None:
    body = ready.post(BATCH, [item("   "), item("  42 ")]).json()
    blank, padded = body["items"]
    assert (blank["status"], [e["field"] for e in blank["errors"]]) == (400, ["skuId"])
    assert (padded["status"], padded["skuId"]) == (201, "42")
    assert store.status("42") == "synced"
    assert ready.get("/offers").json()["paging"]["total"] == 1

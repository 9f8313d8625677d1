"""What cannot be stored or read back is refused at the edge, with a 400 naming the field.

NUL and other control characters in ids, parameters, headers and bodies; dates at the ends
of the calendar; JSON's NaN and Infinity; a chunked body over the size limit; a client's
insane ``X-Request-Id``. Every test runs on SQLite and on PostgreSQL (which cannot hold NUL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sentoffers.domain.model import Role
from sentoffers.server.store.tables import offers
from tests.integration.conftest import FEED, Api, Store

NUL = "\u0000"
BATCH = f"/feeds/{FEED}/interactions/unified/batch"
UNIFIED = f"/feeds/{FEED}/skus/1/interactions/unified"
CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85"]
"""NUL, a C0 control, ESC, DEL and a C1 control (NEL)."""
LAYOUT = ["\t", "\n", "\r"]
"""Allowed in free text only."""


def unified_body(**extra: Any) -> dict[str, Any]:
    return {
        "source": "seller",
        "origin": "price",
        "context": "ongoing",
        "type": "success",
        "description": "price sent",
        "agent": "connector",
        "data": {"price": "9.90", "currency": "BRL"},
        **extra,
    }


def batch_item(sku: str, **extra: Any) -> dict[str, Any]:
    return {"skuId": sku, **unified_body(**extra)}


def fields(response: httpx.Response) -> set[tuple[str | None, str]]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert (field, "invalid") in fields(response), response.text


def stored_skus(store: Store) -> list[str]:
    with store.db.engine.connect() as conn:
        return sorted(conn.execute(select(offers.c.sku_id)).scalars())


def send_json(api: Api, method: str, path: str, text: str) -> httpx.Response:
    return api.request(method, path, content=text, headers={"Content-Type": "application/json"})


# --- 1. NUL, wherever it comes from ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"appKey": f"key{NUL}", "appToken": "token"}, "appKey"),
        ({"appKey": "key", "appToken": f"to{NUL}ken"}, "appToken"),
    ],
)
def test_login_with_a_nul_is_refused_naming_the_field(
    client: TestClient, body: dict[str, str], field: str
) -> None:
    response = client.post("/api/vtexid/apptoken/login", json=body)
    refused(response, field)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/feeds/vtex.amazon%00", "feedId"),
        ("PUT", "/feeds/vtex%00amazon", "feedId"),
        ("DELETE", "/feeds/vtex%00amazon", "feedId"),
        ("GET", f"/feeds/{FEED}/skus/1%00", "skuId"),
        ("GET", f"/feeds/{FEED}/skus/1%00/interactions", "skuId"),
        ("POST", f"/feeds/{FEED}/skus/1%00/interactions", "skuId"),
        ("POST", f"/feeds/{FEED}/skus/1%00/interactions/unified", "skuId"),
        ("GET", f"/feeds/{FEED}/skus/1/interactions/AB%00", "interactionId"),
        ("POST", f"/feeds/{FEED}/skus/1/interactions/AB%00/close", "interactionId"),
        ("POST", f"/feeds/{FEED}/skus/1/interactions/AB%00/logs", "interactionId"),
        ("GET", f"/feeds/{FEED}/skus/1/interactions/AB/logs/%00", "logId"),
        ("POST", "/feeds/vtex.amazon%00/interactions/unified/batch", "feedId"),
        ("GET", "/error-codes/CTLG-001%00", "errorCodeId"),
        ("DELETE", "/keys/key%00", "appKey"),
    ],
)
def test_a_nul_in_a_path_id_is_refused_naming_the_parameter(
    api: Api, method: str, path: str, field: str
) -> None:
    response = api.request(method, path, json=unified_body())
    refused(response, field)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/search/interactions", "q"),
        ("/search/interactions", "channels"),
        ("/search/interactions", "brand"),
        ("/search/interactions", "scope"),
        ("/search/interactions", "fromDate"),
        ("/search/interactions", "toDate"),
        ("/search/interactions", "sort"),
        ("/search/errors", "q"),
        ("/search/errors", "errorCategory"),
        ("/search/errors", "category"),
        ("/offers", "q"),
        ("/offers", "channel"),
        ("/offers", "brand"),
        ("/offers", "errorCode"),
        ("/offers", "status"),
        (f"/feeds/{FEED}/skus/1/interactions", "origin"),
        ("/unmapped-errors", "sort"),
        ("/feeds", "an"),
    ],
)
def test_a_nul_in_a_query_parameter_is_refused_naming_it(
    api: Api, path: str, parameter: str
) -> None:
    response = api.get(path, params={parameter: f"a{NUL}b"})
    refused(response, parameter)


def test_a_nul_in_the_account_is_refused_before_an_idempotency_key_is_claimed(
    make_api: Callable[..., Api],
) -> None:
    admin = make_api(Role.ADMIN, accounts=["*"])
    response = admin.post(
        "/channels",
        {"vendor": "vtex", "name": "Amazon", "logo": "https://l/x.png"},
        params={"an": f"acme{NUL}"},
        headers={"Idempotency-Key": "retry-1"},
    )
    refused(response, "an")


@pytest.mark.parametrize(
    "header", ["X-VTEX-API-AppKey", "X-VTEX-API-AppToken", "VtexIdclientAutCookie"]
)
def test_a_nul_in_a_credentials_header_is_refused_naming_it(api: Api, header: str) -> None:
    response = api.get("/feeds", headers={header: f"key{NUL}"})
    refused(response, header.lower())


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/channels", {"vendor": "vtex", "name": f"Ama{NUL}zon", "logo": "x"}, "name"),
        ("/feeds", {"id": f"vtex.{NUL}", "affiliateId": "A", "salesChannel": "1"}, "id"),
        ("/feeds", {"id": FEED, "affiliateId": f"A{NUL}", "salesChannel": "1"}, "affiliateId"),
        (UNIFIED, unified_body(description=f"sent{NUL}"), "description"),
        (UNIFIED, unified_body(agent=f"connector{NUL}"), "agent"),
        (UNIFIED, unified_body(data={"price": f"9{NUL}"}), "data.price"),
        (UNIFIED, unified_body(data={"Name": f"Shoe{NUL}"}), "data.name"),
        (UNIFIED, unified_body(data={"externalId": f"M{NUL}"}), "data.externalOfferId"),
        (
            UNIFIED,
            unified_body(type="failure", errors=[{"code": f"CTLG-001{NUL}"}]),
            "errors[0].code",
        ),
        (
            UNIFIED,
            unified_body(type="failure", errors={"code": "CTLG-001", "title": f"No{NUL}"}),
            "errors[0].title",
        ),
        (
            UNIFIED,
            unified_body(type="failure", errors=[{"code": "X-1", "description": NUL}]),
            "errors[0].description",
        ),
    ],
)
def test_a_nul_in_a_body_string_is_refused_naming_the_field(
    ready: Api, store: Store, path: str, body: dict[str, Any], field: str
) -> None:
    response = ready.post(path, body)
    refused(response, field)
    assert stored_skus(store) == []


def test_a_nul_in_a_log_body_is_refused_with_every_other_problem(ready: Api) -> None:
    interaction = ready.open("1")
    response = ready.log(
        "1", interaction, {"type": "sometimes", "description": NUL, "agent": f"a{NUL}"}
    )
    assert response.status_code == 400
    assert fields(response) == {
        ("type", "invalid"),
        ("description", "invalid"),
        ("agent", "invalid"),
    }


def test_a_nul_in_one_batch_item_fails_that_item_alone(ready: Api, store: Store) -> None:
    items = [batch_item(str(n)) for n in range(1000)]
    items[500] = batch_item("500", description=f"price{NUL}sent")
    response = ready.post(BATCH, items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (999, 1)
    bad = body["items"][500]
    assert (bad["status"], bad["skuId"]) == (400, "500")
    assert [e["field"] for e in bad["errors"]] == ["description"]
    assert store.status("499") == store.status("501") == "synced"
    assert "500" not in stored_skus(store)
    assert len(stored_skus(store)) == 999


def test_a_nul_in_evidence_is_kept_escaped(ready: Api) -> None:
    interaction = ready.open("1")
    evidence = {"request": f"POST /offers\n{NUL}", "response": f'{{"ok":\tfalse}}{NUL}\x01'}
    response = ready.log("1", interaction, {"type": "information", "evidence": evidence})
    assert response.status_code == 201, response.text
    stored = ready.get(
        f"/feeds/{FEED}/skus/1/interactions/{interaction}/logs/{response.json()['id']}"
    )
    assert stored.json()["evidence"] == {
        "request": "POST /offers\n\\u0000",
        "response": '{"ok":\tfalse}\\u0000\x01',
    }


# --- 2. dates at the ends of the calendar ---------------------------------------------------


def test_search_to_the_last_day_of_9999_includes_everything(ready: Api) -> None:
    ready.unified("1", unified_body(date="9999-12-31T23:59:59.999Z"))
    ready.unified("2", unified_body(date="2024-03-01T10:00:00Z"))
    response = ready.get("/search/interactions", params={"toDate": "9999-12-31"})
    assert response.status_code == 200, response.text
    assert sorted(i["skuId"] for i in response.json()["items"]) == ["1", "2"]


@pytest.mark.parametrize(
    ("parameter", "value", "found"),
    [
        ("fromDate", "9999-12-31", 0),
        ("fromDate", "0001-01-01", 1),
        ("toDate", "0001-01-01", 0),
        ("toDate", "9999-12-31T23:59:59.9999999Z", 1),
        ("toDate", "12/31/9999 11:59:59 PM", 1),
    ],
)
def test_search_reads_dates_at_either_end_of_the_calendar(
    ready: Api, parameter: str, value: str, found: int
) -> None:
    ready.unified("1", unified_body())
    response = ready.get("/search/interactions", params={parameter: value})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == found


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("fromDate", "0001-01-01T00:00:00+01:00"),
        ("toDate", "9999-12-31T23:00:00-05:00"),
        ("toDate", "10000-01-01"),
        ("fromDate", "9999-12-32"),
    ],
)
def test_search_refuses_a_date_outside_the_calendar_naming_the_parameter(
    ready: Api, parameter: str, value: str
) -> None:
    response = ready.get("/search/interactions", params={parameter: value})
    refused(response, parameter)


@pytest.mark.parametrize(
    "date", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "9999-12-31T24:00:00"]
)
def test_a_body_date_outside_the_calendar_is_refused_naming_the_field(
    ready: Api, date: str
) -> None:
    opened = ready.post(
        f"/feeds/{FEED}/skus/1/interactions",
        {"startDate": date, "source": "seller", "origin": "catalog", "context": "setup"},
    )
    refused(opened, "startDate")
    refused(ready.unified("1", unified_body(date=date)), "date")
    interaction = ready.open("1")
    refused(ready.log("1", interaction, {"type": "information", "date": date}), "date")
    batch = ready.post(BATCH, [batch_item("2", date=date), batch_item("3")]).json()
    assert [item["status"] for item in batch["items"]] == [400, 201]
    assert batch["items"][0]["errors"][0]["field"] == "date"


def test_a_log_dated_at_the_end_of_9999_is_stored_and_read_back(ready: Api) -> None:
    interaction = ready.open("1")
    log = ready.log("1", interaction, {"type": "information", "date": "9999-12-31T23:59:59Z"})
    assert log.status_code == 201, log.text
    read = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}")
    assert read.status_code == 200
    assert read.json()["logs"][0]["date"] == "9999-12-31T23:59:59.000Z"
    assert ready.get(f"/feeds/{FEED}/skus/1").status_code == 200


# --- 3. control characters in ids -----------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS + LAYOUT)
def test_an_id_with_a_control_character_is_refused_and_not_stored(
    ready: Api, store: Store, char: str
) -> None:
    refused(
        ready.post("/feeds", {"id": f"vtex.amazon{char}", "affiliateId": "A", "salesChannel": "1"}),
        "id",
    )
    refused(
        ready.request(
            "PUT", f"/feeds/{FEED}", json={"affiliateId": f"A{char}B", "salesChannel": "1"}
        ),
        "affiliateId",
    )
    batch = ready.post(BATCH, [batch_item(f"1{char}"), batch_item("2")]).json()
    assert [item["status"] for item in batch["items"]] == [400, 201]
    assert batch["items"][0]["errors"][0]["field"] == "skuId"
    assert stored_skus(store) == ["2"]
    failure = unified_body(type="failure", errors=[{"code": f"CTLG{char}-001", "title": "x"}])
    refused(ready.unified("3", failure), "errors[0].code")
    quoted = f"%{ord(char):02X}" if ord(char) < 0x80 else "%C2%85"
    refused(ready.get(f"/feeds/{FEED}/skus/1{quoted}"), "skuId")
    refused(ready.get("/offers", params={"brand": f"Acme{char}"}), "brand")


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x85"])
def test_a_channel_name_with_a_control_character_is_refused(ready: Api, char: str) -> None:
    response = ready.post("/channels", {"vendor": "vtex", "name": f"Mer{char}cado", "logo": "x"})
    refused(response, "name")


def test_free_text_keeps_its_tabs_and_line_breaks(ready: Api) -> None:
    description = "Refused by the channel:\n\tbrand missing\r\n\tEAN missing"
    failure = unified_body(
        type="failure",
        description=description,
        errors=[{"code": "CTLG-001", "title": "Brand\tmissing", "description": description}],
    )
    response = ready.unified("1", failure)
    assert response.status_code == 201, response.text
    assert response.json()["logs"][0]["description"] == description
    assert response.json()["logs"][0]["errors"][0]["description"] == description


# --- 4. NaN and Infinity ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309", "-1e400"])
def test_a_body_with_a_number_json_does_not_have_is_refused(
    ready: Api, store: Store, number: str
) -> None:
    interaction = ready.open("1")
    bodies = [
        ("/feeds", f'{{"id": "{FEED}", "affiliateId": "A", "salesChannel": {number}}}'),
        (
            UNIFIED,
            f'{{"source": "seller", "origin": "price", "context": "ongoing", '
            f'"type": "success", "data": {{"price": {number}}}}}',
        ),
        (
            f"/feeds/{FEED}/skus/1/interactions/{interaction}/logs",
            f'{{"Type": "Info", "Data": {{"Inventory": {number}}}}}',
        ),
        (
            BATCH,
            f'[{{"skuId": "2", "source": "seller", "origin": "price", '
            f'"context": "ongoing", "type": "success", "data": {{"price": {number}}}}}]',
        ),
    ]
    for path, text in bodies:
        response = send_json(ready, "POST", path, text)
        assert response.status_code == 400, (path, response.text)
        [problem] = response.json()["errors"]
        assert (problem["code"], problem["field"]) == ("invalid_json", "body")
        assert number.lstrip("-") in problem["message"]
    assert store.offer("1")["price"] is None
    assert stored_skus(store) == ["1"]


# --- 5. a chunked body over the limit -------------------------------------------------------


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"type": "information", "evidence": {"response": "'
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size
    yield b'"}, "source": "seller", "origin": "price", "context": "ongoing"}'


def test_a_chunked_body_over_the_limit_is_refused_with_413(ready: Api) -> None:
    response = ready.request(
        "POST",
        UNIFIED,
        content=chunks(2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert fields(response) == {("body", "payload_too_large")}


def test_a_chunked_body_under_the_limit_is_read_whole(ready: Api) -> None:
    response = ready.request(
        "POST", UNIFIED, content=chunks(150_000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["logs"][0]["evidence"]["response"]) == 150_000


# --- 6. the request id ----------------------------------------------------------------------


def test_a_sane_request_id_is_echoed(api: Api) -> None:
    sane = "sdk-1.4:7f3a_c0ffee." + "a" * 100
    response = api.get("/feeds", headers={"X-Request-Id": sane})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == sane


@pytest.mark.parametrize(
    "insane",
    ["a b", "<script>alert(1)</script>", "x" * 129, "id\x01", "id\nSet-Cookie: a=b", "é".encode()],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(api: Api, insane: str | bytes) -> None:
    response = api.get("/feeds", headers={"X-Request-Id": insane})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])

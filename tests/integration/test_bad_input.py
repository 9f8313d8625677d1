"""Bad input gets 4xx with every problem listed; nothing a client sends answers 5xx.

NUL and control characters, extreme dates, NaN and the request id have their own tests in
test_edge_validation."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import FEED, Api

GARBAGE = [
    b"",
    b"null",
    b"[]",
    b"{",
    b'"text"',
    b"12",
    b'{"type": null}',
    b'{"type": 5, "errors": 7}',
    b'{"type": "failure", "errors": [null, 1, "x", {"code": ""}]}',
    b'{"type": "failure", "errors": {"code": {"nested": true}}}',
    b'{"type": "information", "date": "31/31/2020", "data": {"status": "weird"}}',
    b'{"type": "information", "date": 12345678901234567890, "evidence": [1, 2]}',
    b'{"type": "information", "description": "\\ud800"}',
    b'{"Type": "Info", "Data": {"Price": 1e309}}',
    # What PostgreSQL cannot store, JSON does not have, or Python's dates cannot hold.
    b'{"type": "information", "description": "a\\u0000b", "agent": "\\u0001"}',
    b'{"vendor": "v\\u0000", "name": "\\u0000", "logo": "\\u0000", "id": "x\\u0000"}',
    b'{"Type": "Info", "Data": {"Price": NaN, "Inventory": Infinity}}',
    b'{"type": "information", "date": "0001-01-01T00:00:00+01:00"}',
    b'[{"skuId": "1\\u0000", "type": "info"}, {"skuId": "2", "date": "9999-12-31T23:00-05:00"}]',
]


def test_invalid_log_lists_every_problem_at_once(ready: Api) -> None:
    interaction = ready.open("1")
    response = ready.log(
        "1",
        interaction,
        {
            "type": "sometimes",
            "date": "yesterday",
            "data": {"status": "gone"},
            "errors": [{"code": "CTLG-001", "closableOrigins": ["catalog", "shipping"]}],
        },
    )
    assert response.status_code == 400
    fields = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert fields == {
        ("type", "invalid"),
        ("date", "invalid"),
        ("data.status", "invalid"),
        ("errors[0].closableOrigins[1]", "invalid"),
    }
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "yesterday" in messages
    assert "shipping" in messages


def test_missing_fields_are_reported_as_required(ready: Api) -> None:
    response = ready.post(f"/feeds/{FEED}/skus/1/interactions", {})
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("source", "required"),
        ("origin", "required"),
        ("context", "required"),
    }


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_bodies_get_a_client_error_never_a_server_error(ready: Api, body: bytes) -> None:
    interaction = ready.open("1")
    paths = [
        "/channels",
        "/feeds",
        f"/feeds/{FEED}/skus/1/interactions",
        f"/feeds/{FEED}/skus/1/interactions/{interaction}/logs",
        f"/feeds/{FEED}/skus/1/interactions/unified",
        f"/feeds/{FEED}/interactions/unified/batch",
    ]
    for path in paths:
        response = ready.request(
            "POST", path, content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500 or response.status_code in (200, 201), (
            path,
            response.status_code,
            response.text,
        )
        if response.status_code >= 400:
            assert response.json()["errors"], (path, response.text)


def test_body_over_the_limit_is_refused_with_413(ready: Api) -> None:
    big = json.dumps({"type": "information", "description": "x" * (1024 * 1024)})
    response = ready.request(
        "POST",
        f"/feeds/{FEED}/skus/1/interactions/unified",
        content=big,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"


def test_unknown_route_answers_the_error_shape(ready: Api) -> None:
    response = ready.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_unknown_interaction_is_not_found(ready: Api) -> None:
    response = ready.get(f"/feeds/{FEED}/skus/1/interactions/{'A' * 32}")
    assert response.status_code == 404
    assert ready.close("1", "B" * 32).status_code == 404

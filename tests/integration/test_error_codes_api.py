"""The error-code list through the HTTP API: read by every key, maintained by platform keys.

Error codes are global, not per account; an account's admin may set its own solution for a
code (``?an=ACCOUNT``), see test_admin_tenancy. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from sentoffers.domain.model import Role
from sentoffers.domain.seed_error_codes import SEED_ERROR_CODES
from sentoffers.server.features.keys import create_key
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, Api

CODES = "/api/sent-offers/error-codes"
SEEDED_IDS = sorted(code.id for code in SEED_ERROR_CODES)
SHIP = {
    "id": "SHIP-001",
    "type": "Shipping",
    "description": "Shipping rules of the channel are not met.",
    "solutionText": "Check shipping policies",
    "solutionLink": "http://{accountName}.myvtex.com/admin/shipping-strategy/?skuId={skuId}",
}


def call(api: Api, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    """A request to the error codes with ``api``'s key and no ``an`` (codes are global)."""
    return api.client.request(method, f"{CODES}{path}", headers=api.headers, **kwargs)


@pytest.fixture
def platform(client: TestClient, db: Database) -> Api:
    """The operator's key: it holds no account, and maintains the global list."""
    key = create_key(db, Role.PLATFORM, [])
    return Api(client, key.app_key, key.app_token, account="")


def problem(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["errors"][0])


def test_get_error_code_answers_an_array_holding_the_one_code(api: Api) -> None:
    response = call(api, "GET", "/CTLG-006")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    seeded = next(code for code in SEED_ERROR_CODES if code.id == "CTLG-006")
    assert response.json() == [
        {
            "id": "CTLG-006",
            "type": "Description",
            "description": seeded.description,
            "solutionText": "Fix description",
            "solutionLink": "http://{accountName}.myvtex.com/admin/Site/ProdutoForm.aspx?id={productId}",
        }
    ]


def test_get_error_code_leaves_out_the_solution_a_code_does_not_have(api: Api) -> None:
    [code] = call(api, "GET", "/NTMAP-001").json()
    assert set(code) == {"id", "type", "description"}
    assert code["type"] == "Not mapped"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONNECTOR, Role.ADMIN])
def test_every_key_reads_error_codes_without_naming_an_account(
    make_api: Callable[..., Api], role: Role
) -> None:
    api = make_api(role=role, account="initech")
    response = call(api, "GET", "/PRICE-001")
    assert response.status_code == 200
    assert [code["id"] for code in response.json()] == ["PRICE-001"]
    assert [code["id"] for code in call(api, "GET").json()] == SEEDED_IDS


def test_get_error_code_ignores_the_case_of_the_id(api: Api) -> None:
    response = call(api, "GET", "/ctlg-006")
    assert response.status_code == 200
    assert [code["id"] for code in response.json()] == ["CTLG-006"]


def test_get_an_unknown_error_code_is_not_found(api: Api) -> None:
    response = call(api, "GET", "/SHIP-001")
    assert response.status_code == 404
    assert problem(response)["field"] == "errorCodeId"
    assert call(api, "GET", "/errorId").status_code == 404


def test_get_a_connectors_suffixed_code_is_not_found(api: Api) -> None:
    assert call(api, "GET", "/CTLG-006-001").status_code == 404


def test_error_codes_need_credentials(api: Api) -> None:
    assert api.client.get(f"{CODES}/CTLG-006").status_code == 401
    assert api.client.get(CODES).status_code == 401


def test_list_error_codes_answers_the_seventeen_seeded_codes_by_id(api: Api) -> None:
    response = call(api, "GET")
    assert response.status_code == 200
    body = response.json()
    assert [code["id"] for code in body] == SEEDED_IDS
    assert len(body) == 17
    seeded = {code.id: code for code in SEED_ERROR_CODES}
    for code in body:
        assert code["type"] == seeded[code["id"]].type
        assert code["description"] == seeded[code["id"]].description
        assert code.get("solutionText") == seeded[code["id"]].solution_text
        assert code.get("solutionLink") == seeded[code["id"]].solution_link


def test_a_platform_key_creates_an_error_code(platform: Api, api: Api) -> None:
    response = call(platform, "POST", json=SHIP)
    assert response.status_code == 201
    assert response.json() == SHIP
    assert call(api, "GET", "/SHIP-001").json() == [SHIP]
    assert [code["id"] for code in call(api, "GET").json()] == sorted([*SEEDED_IDS, "SHIP-001"])


def test_a_created_error_code_id_is_stored_in_upper_case(platform: Api) -> None:
    response = call(platform, "POST", json={**SHIP, "id": "ship-002"})
    assert response.status_code == 201
    assert response.json()["id"] == "SHIP-002"
    assert call(platform, "GET", "/SHIP-002").json()[0]["id"] == "SHIP-002"


def test_a_created_error_code_may_leave_out_its_solution(platform: Api) -> None:
    body = {"id": "SHIP-003", "type": "Shipping", "description": "No carrier"}
    response = call(platform, "POST", json=body)
    assert response.status_code == 201
    assert response.json() == body
    assert call(platform, "GET", "/SHIP-003").json() == [body]


def test_creating_an_existing_error_code_is_a_conflict(platform: Api) -> None:
    assert call(platform, "POST", json=SHIP).status_code == 201
    again = call(platform, "POST", json={**SHIP, "id": "ship-001", "type": "Other"})
    assert again.status_code == 409
    assert problem(again)["code"] == "error_code_exists"
    assert call(platform, "GET", "/SHIP-001").json()[0]["type"] == "Shipping"
    seeded = call(platform, "POST", json={**SHIP, "id": "CTLG-006"})
    assert seeded.status_code == 409


@pytest.mark.parametrize("bad_id", ["SHIP", "SHIP-", "-001", "SHIP-001-77", "1SHIP-001", "SH IP-1"])
def test_creating_an_error_code_with_an_id_off_the_pattern_is_rejected(
    platform: Api, bad_id: str
) -> None:
    response = call(platform, "POST", json={**SHIP, "id": bad_id})
    assert response.status_code == 400
    assert any(e["field"] == "id" for e in response.json()["errors"])
    assert len(call(platform, "GET").json()) == 17


def test_creating_an_error_code_lists_every_problem(platform: Api) -> None:
    response = call(platform, "POST", json={"id": "bad id", "type": "", "description": ""})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} >= {"id", "type", "description"}


def test_a_platform_key_updates_an_error_code(platform: Api, api: Api) -> None:
    change = {
        "type": "Description",
        "description": "The description breaks the channel's rules.",
        "solutionText": "Rewrite the description",
        "solutionLink": "http://{accountName}.myvtex.com/admin/products/{productId}",
    }
    response = call(platform, "PUT", "/ctlg-006", json=change)
    assert response.status_code == 200
    assert response.json() == {"id": "CTLG-006", **change}
    assert call(api, "GET", "/CTLG-006").json() == [{"id": "CTLG-006", **change}]


def test_updating_an_error_code_without_a_solution_removes_it(platform: Api) -> None:
    response = call(platform, "PUT", "/CTLG-006", json={"type": "Description", "description": "x"})
    assert response.status_code == 200
    assert call(platform, "GET", "/CTLG-006").json() == [
        {"id": "CTLG-006", "type": "Description", "description": "x"}
    ]


def test_updating_an_unknown_error_code_is_not_found(platform: Api) -> None:
    response = call(platform, "PUT", "/SHIP-001", json={"type": "Shipping", "description": "x"})
    assert response.status_code == 404
    assert call(platform, "GET", "/SHIP-001").status_code == 404


def test_updating_an_error_code_with_a_bad_body_is_rejected(platform: Api) -> None:
    response = call(platform, "PUT", "/CTLG-006", json={"type": ""})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} >= {"type", "description"}


def test_a_platform_key_deletes_an_error_code(platform: Api) -> None:
    response = call(platform, "DELETE", "/CTLG-012")
    assert response.status_code == 204
    assert response.content == b""
    assert call(platform, "GET", "/CTLG-012").status_code == 404
    assert "CTLG-012" not in [code["id"] for code in call(platform, "GET").json()]
    assert call(platform, "DELETE", "/CTLG-012").status_code == 404


def test_the_unmapped_code_cannot_be_deleted(platform: Api) -> None:
    response = call(platform, "DELETE", "/NTMAP-001")
    assert response.status_code == 400
    assert problem(response)["code"] == "error_code_required"
    assert call(platform, "DELETE", "/ntmap-001").status_code == 400
    assert call(platform, "GET", "/NTMAP-001").status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CONNECTOR, Role.VIEWER])
def test_only_a_platform_key_maintains_error_codes(
    make_api: Callable[..., Api], role: Role
) -> None:
    api = make_api(role=role, accounts=["*"] if role == Role.ADMIN else None)
    created = call(api, "POST", json=SHIP)
    assert created.status_code == 403
    assert problem(created)["code"] == "platform_only"
    updated = call(api, "PUT", "/CTLG-006", json={"type": "X", "description": "x"})
    assert updated.status_code == 403
    assert problem(updated)["code"] == "platform_only"
    deleted = call(api, "DELETE", "/CTLG-006")
    assert deleted.status_code == 403
    assert call(api, "GET", "/SHIP-001").status_code == 404
    assert call(api, "GET", "/CTLG-006").json()[0]["type"] == "Description"


# --- the list as logs see it --------------------------------------------------------------


def failure_log(api: Api, sku: str, code: str) -> dict[str, Any]:
    interaction = api.open(sku)
    response = api.log(
        sku,
        interaction,
        {"type": "failure", "description": "rejected", "errors": [{"code": code}]},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_created_code_resolves_a_connectors_suffixed_code_at_once(
    ready: Api, platform: Api
) -> None:
    before = failure_log(ready, "1", "SHIP-001-77")
    assert before["errors"][0]["errorCodeId"] == "NTMAP-001"
    assert call(platform, "POST", json=SHIP).status_code == 201
    created = failure_log(ready, "2", "SHIP-001-77")
    [error] = created["errors"]
    assert (error["code"], error["errorCodeId"], error["mapped"]) == (
        "SHIP-001-77",
        "SHIP-001",
        True,
    )
    assert created.get("warnings", []) == []
    details = ready.get(f"/feeds/{FEED}/skus/2").json()
    [open_error] = details["openErrors"]
    assert (open_error["errorCodeId"], open_error["type"]) == ("SHIP-001", "Shipping")
    assert open_error["solutionLink"] == (
        f"http://{ready.account}.myvtex.com/admin/shipping-strategy/?skuId=2"
    )


def test_a_deleted_code_classifies_later_logs_as_unmapped(ready: Api, platform: Api) -> None:
    kept = failure_log(ready, "1", "CTLG-012-5")
    assert kept["errors"][0]["errorCodeId"] == "CTLG-012"
    assert call(platform, "DELETE", "/CTLG-012").status_code == 204
    later = failure_log(ready, "2", "CTLG-012-5")
    [error] = later["errors"]
    assert (error["code"], error["errorCodeId"], error["mapped"]) == (
        "CTLG-012-5",
        "NTMAP-001",
        False,
    )
    assert later["warnings"][0]["code"] == "unmapped_error_code"
    exact = failure_log(ready, "3", "CTLG-012")
    assert exact["errors"][0]["errorCodeId"] == "NTMAP-001"
    # An error opened before the deletion keeps its code.
    [open_error] = ready.get(f"/feeds/{FEED}/skus/1").json()["openErrors"]
    assert open_error["errorCodeId"] == "CTLG-012"


def test_search_errors_follows_the_maintained_list(ready: Api, platform: Api) -> None:
    assert call(platform, "POST", json=SHIP).status_code == 201
    assert call(platform, "DELETE", "/CTLG-012").status_code == 204
    page = ready.get("/search/errors", params={"from": 0, "to": 99}).json()
    ids = [item["id"] for item in page["items"]]
    assert "SHIP-001" in ids
    assert "CTLG-012" not in ids
    assert page["paging"]["total"] == 17
    shipping = ready.get("/search/errors", params={"errorCategory": "shipping"}).json()
    assert [item["id"] for item in shipping["items"]] == ["SHIP-001"]


# --- an account's own solution for a code (?an=ACCOUNT) --------------------------------------

OWN = {"solutionText": "Ask our catalog team", "solutionLink": "https://wiki.acme.example/ctlg"}


@pytest.fixture
def admin(make_api: Callable[..., Api]) -> Api:
    return make_api(role=Role.ADMIN)


def own(api: Api, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    """A request to the error codes for ``api``'s account (``an``)."""
    return call(api, method, path, params={"an": api.account}, **kwargs)


def test_an_admin_sets_its_accounts_own_solution_and_the_global_code_stays(
    admin: Api, api: Api
) -> None:
    seeded = next(code for code in SEED_ERROR_CODES if code.id == "CTLG-006")
    response = own(admin, "PUT", "/ctlg-006", json=OWN)
    assert response.status_code == 200
    mine = {"id": "CTLG-006", "type": "Description", "description": seeded.description, **OWN}
    assert response.json() == mine
    assert own(api, "GET", "/CTLG-006").json() == [mine]
    assert {code["id"]: code for code in own(api, "GET").json()}["CTLG-006"] == mine
    [code] = call(api, "GET", "/CTLG-006").json()
    assert code["solutionText"] == "Fix description"


def test_an_accounts_own_solution_may_drop_the_global_link(admin: Api) -> None:
    assert own(admin, "PUT", "/CTLG-006", json={"solutionText": "Call us"}).status_code == 200
    [code] = own(admin, "GET", "/CTLG-006").json()
    assert (code["solutionText"], "solutionLink" in code) == ("Call us", False)


def test_an_account_cannot_override_a_codes_type_or_description(admin: Api) -> None:
    response = own(admin, "PUT", "/CTLG-006", json={**OWN, "Type": "X", "description": "y"})
    assert response.status_code == 400
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("not_overridable", "type"),
        ("not_overridable", "description"),
    }
    assert own(admin, "GET", "/CTLG-006").json()[0]["solutionText"] == "Fix description"


def test_an_accounts_solution_with_a_bad_body_lists_every_problem(admin: Api) -> None:
    body = {"solutionText": "x" * 1001, "solutionLink": "y" * 2001}
    response = own(admin, "PUT", "/CTLG-006", json=body)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"solutionText", "solutionLink"}


def test_an_accounts_solution_needs_a_known_code(admin: Api) -> None:
    response = own(admin, "PUT", "/SHIP-001", json=OWN)
    assert response.status_code == 404
    assert problem(response)["field"] == "errorCodeId"


def test_removing_an_accounts_solution_brings_back_the_global_one(admin: Api) -> None:
    assert own(admin, "PUT", "/CTLG-006", json=OWN).status_code == 200
    removed = own(admin, "DELETE", "/ctlg-006")
    assert (removed.status_code, removed.content) == (204, b"")
    assert own(admin, "GET", "/CTLG-006").json()[0]["solutionText"] == "Fix description"
    assert own(admin, "DELETE", "/CTLG-006").status_code == 404
    assert call(admin, "GET", "/CTLG-006").status_code == 200


@pytest.mark.parametrize("role", [Role.CONNECTOR, Role.VIEWER])
def test_only_an_admin_of_the_account_sets_its_solution(
    make_api: Callable[..., Api], role: Role
) -> None:
    api = make_api(role=role)
    for method in ("PUT", "DELETE"):
        response = own(api, method, "/CTLG-006", json=OWN if method == "PUT" else None)
        assert response.status_code == 403
        assert problem(response)["code"] == "admin_only"
    assert own(api, "GET", "/CTLG-006").json()[0]["solutionText"] == "Fix description"


def test_a_platform_key_sets_no_accounts_solution(platform: Api) -> None:
    response = call(platform, "PUT", "/CTLG-006", params={"an": ACCOUNT}, json=OWN)
    assert response.status_code == 403
    assert problem(response)["field"] == "an"


def test_deleting_a_global_code_deletes_the_accounts_solutions_for_it(
    admin: Api, platform: Api
) -> None:
    assert own(admin, "PUT", "/CTLG-012", json=OWN).status_code == 200
    assert call(platform, "DELETE", "/CTLG-012").status_code == 204
    assert own(admin, "GET", "/CTLG-012").status_code == 404
    assert own(admin, "DELETE", "/CTLG-012").status_code == 404

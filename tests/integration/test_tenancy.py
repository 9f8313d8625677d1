"""Authentication and tenancy: a key never touches another account, on any route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sentoffers.domain.model import Role
from sentoffers.server.settings import Settings
from tests.integration.conftest import ACCOUNT, FEED, OTHER_ACCOUNT, Api


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Every route is tried with a wrong token in a row: failed-login throttling, tested on
    # its own (test_rate_limits.py), would answer 429 from the eleventh on.
    return Settings(
        database_url=database_url, background_jobs=False, environment="test", login_failures_max=0
    )


INTERACTION = {"source": "seller", "origin": "catalog", "context": "setup"}
LOG = {"type": "information", "description": "x"}


ONE = "/feeds/{feedId}/skus/{skuId}/interactions/{interactionId}"
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/channels", {"vendor": "other", "name": "Shop", "logo": "l"}),
    ("POST", "/feeds", {"id": FEED, "affiliateId": "X", "salesChannel": "1"}),
    ("GET", "/feeds", None),
    ("GET", "/feeds/{feedId}", None),
    ("PUT", "/feeds/{feedId}", {"affiliateId": "X", "salesChannel": "1"}),
    ("DELETE", "/feeds/{feedId}", None),
    ("POST", "/feeds/{feedId}/skus/{skuId}/interactions", INTERACTION),
    ("GET", ONE, None),
    ("POST", ONE + "/close", None),
    ("POST", ONE + "/logs", LOG),
    ("GET", ONE + "/logs/{logId}", None),
    ("POST", "/feeds/{feedId}/skus/{skuId}/interactions/unified", {**INTERACTION, **LOG}),
    ("POST", "/feeds/{feedId}/interactions/unified/batch", [{**INTERACTION, **LOG, "skuId": "1"}]),
    ("GET", "/offers", None),
    ("GET", "/feeds/{feedId}/skus/{skuId}", None),
    ("GET", "/feeds/{feedId}/skus/{skuId}/interactions", None),
    ("GET", "/unmapped-errors", None),
    ("GET", "/search/interactions", None),
    ("GET", "/search/errors", None),
]
# Routes for admin and platform keys (which may do what: tests/integration/test_admin_tenancy.py).
ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/keys", {"role": "viewer", "accounts": [ACCOUNT]}),
    ("DELETE", "/keys/{appKey}", None),
    ("POST", "/error-codes", {"id": "SHIP-001", "type": "Shipping", "description": "d"}),
    ("PUT", "/error-codes/{errorCodeId}", {"type": "Shipping", "description": "d"}),
    ("DELETE", "/error-codes/{errorCodeId}", None),
    ("PUT", "/channels/{channelId}", {"name": "Amazon", "logo": "l"}),
]
# Global reads: any valid key, no account.
GLOBAL_READS: list[tuple[str, str, Any]] = [
    ("GET", "/error-codes", None),
    ("GET", "/error-codes/{errorCodeId}", None),
]


ADMIN_ROUTES_CONCRETE = [
    (m, p.format(appKey="none", errorCodeId="CTLG-001", channelId=FEED), b)
    for m, p, b in ADMIN_ROUTES
]
GLOBAL_READS_CONCRETE = [(m, p.format(errorCodeId="CTLG-001"), b) for m, p, b in GLOBAL_READS]


def account_routes(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    """One request per account-scoped route, with real ids of ``ACCOUNT``'s data."""
    values = {"feedId": FEED, "skuId": "1", "appKey": "none", **ids}
    return [(method, path.format(**values), body) for method, path, body in ROUTES]


@pytest.fixture
def ids(ready: Api) -> dict[str, str]:
    interaction = ready.open("1")
    log = ready.log("1", interaction, LOG).json()["id"]
    return {"interactionId": interaction, "logId": log}


def test_every_api_route_is_covered_by_the_tenancy_tests(client: TestClient) -> None:
    covered = {
        (method, "/api/sent-offers" + path)
        for method, path, _ in ROUTES + ADMIN_ROUTES + GLOBAL_READS
    }
    routes = {
        (method, route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/api/sent-offers")
        for method in route.methods
    }
    assert routes <= covered, f"routes without a tenancy test: {sorted(routes - covered)}"


def test_a_key_of_another_account_is_forbidden_on_every_route(
    ids: dict[str, str], make_api: Callable[..., Api]
) -> None:
    intruder = make_api(account=OTHER_ACCOUNT)
    intruder.account = ACCOUNT  # asks for the victim's account with its own key
    for method, path, body in account_routes(ids):
        response = intruder.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["errors"][0]["field"] == "an"


def test_a_key_never_sees_another_accounts_data_under_its_own_account(
    ids: dict[str, str], make_api: Callable[..., Api]
) -> None:
    other = make_api(account=OTHER_ACCOUNT)
    for method, path, body in account_routes(ids):
        if method != "GET":
            continue
        response = other.request(method, path, json=body)
        if "{" in path or path.startswith("/feeds/"):
            assert response.status_code == 404, (method, path, response.text)
        else:  # lists and searches answer, with nothing of the other account in them
            assert response.status_code == 200, (method, path, response.text)
            assert ids["interactionId"] not in response.text, path
            assert '"skuId":"1"' not in response.text.replace(" ", ""), path


def test_a_viewer_reads_but_never_writes(ids: dict[str, str], make_api: Callable[..., Api]) -> None:
    viewer = make_api(role=Role.VIEWER)
    for method, path, body in account_routes(ids):
        response = viewer.request(method, path, json=body)
        if method == "GET":
            assert response.status_code == 200, (method, path, response.text)
        else:
            assert response.status_code == 403, (method, path, response.text)


def test_missing_or_wrong_credentials_are_unauthorized(
    ids: dict[str, str], client: TestClient, api: Api
) -> None:
    for method, path, body in account_routes(ids) + ADMIN_ROUTES_CONCRETE + GLOBAL_READS_CONCRETE:
        bare = client.request(method, f"/api/sent-offers{path}", params={"an": ACCOUNT}, json=body)
        assert bare.status_code == 401, (method, path)
        wrong = api.request(method, path, json=body, headers={"X-VTEX-API-AppToken": "nope"})
        assert wrong.status_code == 401, (method, path)
        assert wrong.json()["errors"][0]["code"] == "unauthorized"


def test_connector_keys_reach_no_admin_route_and_admins_manage_keys(
    api: Api, make_api: Callable[..., Api]
) -> None:
    for method, path, body in ADMIN_ROUTES_CONCRETE:
        assert api.request(method, path, json=body).status_code == 403
    admin = make_api(role=Role.ADMIN)
    created = admin.post("/keys", {"role": "viewer", "accounts": [ACCOUNT]})
    assert created.status_code == 201
    beyond = admin.post("/keys", {"role": "viewer", "accounts": [OTHER_ACCOUNT]})
    assert beyond.status_code == 403
    key = created.json()
    viewer = Api(api.client, key["appKey"], key["appToken"], ACCOUNT)
    assert viewer.get("/feeds").status_code == 200
    assert admin.request("DELETE", f"/keys/{key['appKey']}").status_code == 204
    assert viewer.get("/feeds").status_code == 401


def test_error_codes_are_global_reads_for_any_key(make_api: Callable[..., Api]) -> None:
    viewer = make_api(role=Role.VIEWER, account=OTHER_ACCOUNT)
    for method, path, _ in GLOBAL_READS_CONCRETE:
        assert viewer.request(method, path).status_code == 200, path


def test_missing_account_is_a_bad_request(api: Api) -> None:
    response = api.client.get("/api/sent-offers/feeds", headers=api.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "an"


def test_vtex_id_token_authenticates_as_its_key(ready: Api) -> None:
    login = ready.client.post(
        "/api/vtexid/apptoken/login",
        json={
            "appkey": ready.headers["X-VTEX-API-AppKey"],
            "apptoken": ready.headers["X-VTEX-API-AppToken"],
        },
    )
    assert login.status_code == 200
    token = login.json()["token"]
    by_header = ready.client.get(
        "/api/sent-offers/feeds", params={"an": ACCOUNT}, headers={"VtexIdclientAutCookie": token}
    )
    assert by_header.status_code == 200
    assert [f["id"] for f in by_header.json()] == [FEED]
    ready.client.cookies.set("VtexIdclientAutCookie", token)
    by_cookie = ready.client.get("/api/sent-offers/feeds", params={"an": ACCOUNT})
    assert by_cookie.status_code == 200
    ready.client.cookies.clear()
    forged = ready.client.get(
        "/api/sent-offers/feeds",
        params={"an": ACCOUNT},
        headers={"VtexIdclientAutCookie": token + "x"},
    )
    assert forged.status_code == 401

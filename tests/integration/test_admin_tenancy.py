"""Two tenants, their admins and the operator's platform key, over HTTP.

An account's admin acts on its own account only: it revokes only its accounts' keys (any
other key answers exactly like an unknown one), never changes the global error codes nor a
channel, and its own solution for an error code shows on its offers only. The platform key
changes what every account reads. Account A is ``ACCOUNT``, B is ``OTHER_ACCOUNT``. Every
test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sentoffers.cli import app as cli
from sentoffers.domain.model import Role
from sentoffers.server.features.keys import create_key
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, FEED, OTHER_ACCOUNT, Api, report

SHIP = {"id": "SHIP-001", "type": "Shipping", "description": "No carrier for the region."}
CHANGED = {"type": "Description", "description": "Changed for everyone.", "solutionText": "x"}
OWN = {"solutionText": "Ask A's catalog team", "solutionLink": "https://help.a.example/{skuId}"}
GLOBAL_LINK = "http://{account}.myvtex.com/admin/Site/ProdutoForm.aspx?id="


def send(
    api: Api, method: str, path: str, *, an: str | None = None, **kwargs: Any
) -> httpx.Response:
    """A request with ``api``'s key, naming the account ``an`` only when given."""
    params = {"an": an} if an is not None else {}
    return api.client.request(
        method, f"/api/sent-offers{path}", params=params, headers=api.headers, **kwargs
    )


def as_key(api: Api, created: httpx.Response, account: str) -> Api:
    body = created.json()
    return Api(api.client, body["appKey"], body["appToken"], account)


def app_key(api: Api) -> str:
    return api.headers["X-VTEX-API-AppKey"]


@pytest.fixture
def platform(client: TestClient, db: Database) -> Api:
    key = create_key(db, Role.PLATFORM, [])
    return Api(client, key.app_key, key.app_token, account="")


@pytest.fixture
def admin_a(make_api: Callable[..., Api]) -> Api:
    return make_api(role=Role.ADMIN, account=ACCOUNT)


@pytest.fixture
def connector_b(make_api: Callable[..., Api]) -> Api:
    return make_api(role=Role.CONNECTOR, account=OTHER_ACCOUNT)


# --- keys ----------------------------------------------------------------------------------


def test_an_admin_cannot_revoke_another_accounts_key_and_learns_nothing_of_it(
    admin_a: Api, connector_b: Api
) -> None:
    others = send(admin_a, "DELETE", f"/keys/{app_key(connector_b)}")
    unknown = send(admin_a, "DELETE", "/keys/vtexappkey-globex-NOSUCH")
    assert (others.status_code, unknown.status_code) == (404, 404)
    assert others.json() == unknown.json()
    assert others.content == unknown.content
    assert connector_b.get("/feeds").status_code == 200


def test_an_admin_revokes_the_keys_of_its_own_accounts_only(
    admin_a: Api, make_api: Callable[..., Api]
) -> None:
    own = make_api(role=Role.CONNECTOR, account=ACCOUNT)
    shared = make_api(role=Role.CONNECTOR, account=ACCOUNT, accounts=[ACCOUNT, OTHER_ACCOUNT])
    assert send(admin_a, "DELETE", f"/keys/{app_key(shared)}").status_code == 404
    assert shared.get("/feeds").status_code == 200
    assert send(admin_a, "DELETE", f"/keys/{app_key(own)}").status_code == 204
    assert own.get("/feeds").status_code == 401
    admin_of_both = make_api(role=Role.ADMIN, accounts=[ACCOUNT, OTHER_ACCOUNT])
    assert send(admin_of_both, "DELETE", f"/keys/{app_key(shared)}").status_code == 204


def test_an_admin_of_every_account_cannot_revoke_a_platform_key(
    make_api: Callable[..., Api], platform: Api
) -> None:
    admin_of_all = make_api(role=Role.ADMIN, accounts=["*"])
    revoked = send(admin_of_all, "DELETE", f"/keys/{app_key(platform)}")
    assert revoked.json() == send(admin_of_all, "DELETE", "/keys/nosuch").json()
    assert revoked.status_code == 404
    assert send(platform, "GET", "/error-codes/CTLG-006").status_code == 200


def test_a_platform_key_revokes_the_keys_of_any_account(
    platform: Api, admin_a: Api, connector_b: Api, db: Database
) -> None:
    other_platform = create_key(db, Role.PLATFORM, [])
    for key in (app_key(admin_a), app_key(connector_b), other_platform.app_key):
        assert send(platform, "DELETE", f"/keys/{key}").status_code == 204
    assert connector_b.get("/feeds").status_code == 401
    assert send(admin_a, "GET", "/error-codes").status_code == 401


def test_an_admin_cannot_create_a_platform_key(admin_a: Api, make_api: Callable[..., Api]) -> None:
    for admin in (admin_a, make_api(role=Role.ADMIN, accounts=["*"])):
        created = send(admin, "POST", "/keys", json={"role": "platform"})
        assert created.status_code == 403
        assert created.json()["errors"][0]["code"] == "platform_only"
    beyond = send(admin_a, "POST", "/keys", json={"role": "admin", "accounts": [OTHER_ACCOUNT]})
    assert beyond.status_code == 403


def test_a_platform_key_creates_keys_of_any_role_for_any_account(platform: Api) -> None:
    admin_b = send(platform, "POST", "/keys", json={"role": "admin", "accounts": [OTHER_ACCOUNT]})
    assert admin_b.status_code == 201
    assert as_key(platform, admin_b, OTHER_ACCOUNT).get("/feeds").status_code == 200
    another = send(platform, "POST", "/keys", json={"role": "platform", "label": "ops"})
    assert another.status_code == 201
    assert (another.json()["role"], another.json()["accounts"]) == ("platform", [])
    holding = send(platform, "POST", "/keys", json={"role": "platform", "accounts": [ACCOUNT]})
    assert holding.status_code == 400
    assert holding.json()["errors"][0]["field"] == "accounts"


def test_a_platform_key_reads_and_writes_no_accounts_data(platform: Api, ready: Api) -> None:
    for method, path in (("GET", "/feeds"), ("GET", f"/feeds/{FEED}/skus/1")):
        response = send(platform, method, path, an=ACCOUNT)
        assert response.status_code == 403
        assert response.json()["errors"][0]["field"] == "an"
    channel = {"vendor": "ops", "name": "Shop", "logo": "l"}
    assert send(platform, "POST", "/channels", an=ACCOUNT, json=channel).status_code == 403


def test_the_command_line_makes_a_platform_key_that_holds_no_account(
    database_url: str, client: TestClient, connector_b: Api
) -> None:
    made = CliRunner().invoke(
        cli, ["keys", "create", "--role", "platform", "--database-url", database_url]
    )
    assert made.exit_code == 0, made.output
    printed = json.loads(made.stdout.strip().splitlines()[-1])
    assert (printed["role"], printed["accounts"]) == ("platform", [])
    platform = Api(client, printed["appKey"], printed["appToken"], account="")
    assert send(platform, "DELETE", f"/keys/{app_key(connector_b)}").status_code == 204
    refused = CliRunner().invoke(
        cli,
        [
            "keys",
            "create",
            "--role",
            "platform",
            "--account",
            ACCOUNT,
            "--database-url",
            database_url,
        ],
    )
    assert refused.exit_code == 2


# --- global error codes --------------------------------------------------------------------


def test_an_admin_cannot_change_the_global_error_codes_other_accounts_read(
    admin_a: Api, connector_b: Api
) -> None:
    before = send(connector_b, "GET", "/error-codes/CTLG-006").json()
    answers = [
        send(admin_a, "POST", "/error-codes", json=SHIP),
        send(admin_a, "PUT", "/error-codes/CTLG-006", json=CHANGED),
        send(admin_a, "DELETE", "/error-codes/CTLG-006"),
    ]
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.json()["errors"][0]["code"] == "platform_only"
        assert "platform key" in answer.json()["errors"][0]["message"]
    assert send(connector_b, "GET", "/error-codes/CTLG-006").json() == before
    assert send(connector_b, "GET", "/error-codes/SHIP-001").status_code == 404


def test_a_platform_key_changes_the_global_error_codes_for_every_account(
    platform: Api, admin_a: Api, connector_b: Api
) -> None:
    assert send(platform, "POST", "/error-codes", json=SHIP).status_code == 201
    assert send(platform, "PUT", "/error-codes/CTLG-006", json=CHANGED).status_code == 200
    assert send(platform, "DELETE", "/error-codes/CTLG-012").status_code == 204
    for reader in (admin_a, connector_b):
        assert send(reader, "GET", "/error-codes/SHIP-001").json() == [SHIP]
        assert send(reader, "GET", "/error-codes/CTLG-006").json() == [
            {"id": "CTLG-006", **CHANGED}
        ]
        assert send(reader, "GET", "/error-codes/CTLG-012").status_code == 404


# --- an account's own solution for a code --------------------------------------------------


@pytest.fixture
def offers_in_error(ready: Api, connector_b: Api) -> tuple[Api, Api]:
    """SKU 1 of A and of B, each with an open CTLG-006 error."""
    assert connector_b.activate().status_code == 201
    for connector in (ready, connector_b):
        report(connector, "1", "failure", errors=[{"code": "CTLG-006"}])
    return ready, connector_b


def open_error(api: Api) -> dict[str, Any]:
    [error] = api.get(f"/feeds/{FEED}/skus/1").json()["openErrors"]
    assert error["errorCodeId"] == "CTLG-006"
    return dict(error)


def test_an_accounts_own_solution_shows_on_its_offers_only(
    admin_a: Api, offers_in_error: tuple[Api, Api]
) -> None:
    connector_a, connector_b = offers_in_error
    response = send(admin_a, "PUT", "/error-codes/CTLG-006", an=ACCOUNT, json=OWN)
    assert response.status_code == 200, response.text
    mine = open_error(connector_a)
    assert (mine["solutionText"], mine["solutionLink"]) == (
        OWN["solutionText"],
        "https://help.a.example/1",
    )
    theirs = open_error(connector_b)
    assert theirs["solutionText"] == "Fix description"
    assert theirs["solutionLink"].startswith(GLOBAL_LINK.format(account=OTHER_ACCOUNT))
    [a_reads] = send(connector_a, "GET", "/error-codes/CTLG-006", an=ACCOUNT).json()
    assert a_reads["solutionText"] == OWN["solutionText"]
    [b_reads] = send(connector_b, "GET", "/error-codes/CTLG-006", an=OTHER_ACCOUNT).json()
    [global_code] = send(connector_b, "GET", "/error-codes/CTLG-006").json()
    assert b_reads == global_code
    assert global_code["solutionText"] == "Fix description"


def test_an_admin_cannot_set_or_read_another_accounts_solution(
    admin_a: Api, offers_in_error: tuple[Api, Api]
) -> None:
    _, connector_b = offers_in_error
    for method, body in (("PUT", OWN), ("DELETE", None), ("GET", None)):
        response = send(admin_a, method, "/error-codes/CTLG-006", an=OTHER_ACCOUNT, json=body)
        assert response.status_code == 403, (method, response.text)
        assert response.json()["errors"][0]["field"] == "an"
    assert open_error(connector_b)["solutionText"] == "Fix description"


def test_removing_an_accounts_solution_shows_the_global_one_again(
    admin_a: Api, offers_in_error: tuple[Api, Api]
) -> None:
    connector_a, _ = offers_in_error
    assert send(admin_a, "PUT", "/error-codes/CTLG-006", an=ACCOUNT, json=OWN).status_code == 200
    assert send(admin_a, "DELETE", "/error-codes/CTLG-006", an=ACCOUNT).status_code == 204
    assert open_error(connector_a)["solutionText"] == "Fix description"
    assert send(admin_a, "GET", "/error-codes/CTLG-006").status_code == 200


# --- channels ------------------------------------------------------------------------------


def test_an_account_cannot_change_a_channel_another_account_shows(
    ready: Api, admin_a: Api, connector_b: Api
) -> None:
    assert connector_b.activate().status_code == 201
    [before] = connector_b.get("/feeds").json()
    change = {"name": "Not Amazon", "logo": "https://evil.example/logo.png"}
    for key in (admin_a, ready):
        response = send(key, "PUT", f"/channels/{FEED}", json=change)
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["code"] == "platform_only"
    again = connector_b.post("/channels", {"vendor": "vtex", "name": "AMAZON", "logo": "x"})
    assert again.status_code == 409
    assert connector_b.get("/feeds").json() == [before]


def test_a_platform_key_changes_a_channels_name_and_logo_for_every_account(
    ready: Api, platform: Api, connector_b: Api
) -> None:
    assert connector_b.activate().status_code == 201
    change = {"name": "Amazon Brasil", "logo": "https://cdn.example/amazon.png"}
    response = send(platform, "PUT", f"/channels/{FEED.upper()}", json=change)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": FEED, "vendor": "vtex", **change}
    for account in (ready, connector_b):
        [feed] = account.get("/feeds").json()
        assert (feed["id"], feed["channelName"], feed["channelLogo"]) == (
            FEED,
            change["name"],
            change["logo"],
        )
    missing = send(platform, "PUT", "/channels/vtex.nosuch", json=change)
    assert missing.status_code == 404

"""The SDK document's calls as the .NET SentOffers.SDK puts them on the wire, over real HTTP.

No Python SDK here: each body is the JSON Newtonsoft.Json writes for the document's DTOs
(PascalCase properties, null for unset ones, numbers for ``Price`` and ``Inventory``,
``DateTime.Now.ToString()`` dates in the en-US format and the day-first one of pt-BR), sent
with the connector's AppKey/AppToken headers to a ``sentoffers serve`` process. What the
tests read back is what the seller sees: the offer's status, price, inventory and errors.
(The session's admin key, a ``SentOffersCredentials``, only issues each test's connector key.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentoffers.client import SentOffersCredentials
from tests.e2e.service_process import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

API = "/api/sent-offers"
SKU = "1"
EN_US = "12/3/2026 2:05:09 PM"
"""``DateTime.Now.ToString()`` in the en-US culture."""
DAY_FIRST = "03/12/2026 14:05:09"
"""``DateTime.Now.ToString()`` with the day first and a 24-hour clock, as in pt-BR."""


class DotNetConnector:
    """A connector that sends what the .NET SDK serializes, for one account and one feed."""

    def __init__(self, http: httpx.Client, account: str, feed_id: str) -> None:
        self.http = http
        self.account = account
        self.feed_id = feed_id

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        # Newtonsoft.Json's output: no blanks, the DTO's property order, nulls kept.
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content else {}
        return self.http.post(
            API + path, params={"an": self.account}, content=content, headers=headers
        )

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def interactions(self, sku: str) -> str:
        return f"/feeds/{self.feed_id}/skus/{sku}/interactions"

    def create_interaction(
        self, sku: str, origin: str, context: str = "sync", start: str = EN_US
    ) -> str:
        """``CreateInteractionAsync`` with an ``InteractionCreateDTO``."""
        body = {"StartDate": start, "Source": "seller", "Origin": origin, "Context": context}
        return str(self.created(self.interactions(sku), body)["id"])

    def create_log(
        self,
        sku: str,
        interaction: str,
        *,
        type_: str = "Info",
        date: str = EN_US,
        data: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        description: str = "SKU enviado ao marketplace",
    ) -> dict[str, Any]:
        """``CreateLogAsync`` with a ``CreateLogDTO``."""
        body = {
            "Description": description,
            "Type": type_,
            "Agent": "channel",
            "Date": date,
            "Evidence": None,
            "Data": data,
            "Errors": errors,
        }
        return self.created(f"{self.interactions(sku)}/{interaction}/logs", body)

    def close(self, sku: str, interaction: str) -> None:
        closed = self.post(f"{self.interactions(sku)}/{interaction}/close")
        assert closed.status_code == 204, closed.text

    def offer(self, sku: str = SKU) -> dict[str, Any]:
        response = self.http.get(
            f"{API}/feeds/{self.feed_id}/skus/{sku}", params={"an": self.account}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def interaction(self, sku: str, interaction: str) -> dict[str, Any]:
        response = self.http.get(
            f"{API}{self.interactions(sku)}/{interaction}", params={"an": self.account}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def synchronized_update(self, sku: str, origin: str, data: dict[str, Any]) -> str:
        """The document's price or inventory flow: Sending, then Synchronized, then close."""
        interaction = self.create_interaction(sku, origin)
        self.create_log(sku, interaction, description="sdk test", data={"Status": "Sending"})
        self.create_log(sku, interaction, data=data)
        self.close(sku, interaction)
        return interaction


@pytest.fixture
def connector(
    shared_service: ServiceProcess, admin_credentials: SentOffersCredentials, account: str
) -> Iterator[DotNetConnector]:
    """A connector key of a fresh account, its channel and its feed, active."""
    admin = {
        "X-VTEX-API-AppKey": str(admin_credentials.app_key),
        "X-VTEX-API-AppToken": str(admin_credentials.app_token),
    }
    issued = httpx.post(
        f"{shared_service.base_url}{API}/keys",
        json={"role": "connector", "accounts": [account]},
        headers=admin,
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    key = issued.json()
    headers = {"X-VTEX-API-AppKey": key["appKey"], "X-VTEX-API-AppToken": key["appToken"]}
    with httpx.Client(base_url=shared_service.base_url, headers=headers, timeout=10) as http:
        feed_id = f"vtex.{account}"
        dotnet = DotNetConnector(http, account, feed_id)
        channel = {"Vendor": "vtex", "Name": account, "Logo": "https://example.com/logo.png"}
        assert dotnet.created("/channels", channel)["id"] == feed_id
        # FeedCreateDTO: Id, SalesChannel, AffiliatedId.
        feed = {"Id": feed_id, "SalesChannel": "1", "AffiliatedId": "AFL"}
        assert dotnet.created("/feeds", feed) == {
            "account": account,
            "id": feed_id,
            "affiliateId": "AFL",
            "salesChannel": "1",
        }
        yield dotnet


def test_the_price_flow_is_sending_while_open_and_synced_once_closed(
    connector: DotNetConnector,
) -> None:
    interaction = connector.create_interaction(SKU, "price")
    sending = connector.create_log(
        SKU, interaction, description="sdk test", data={"Status": "Sending"}
    )
    assert (sending["type"], sending["data"]) == ("information", {"status": "sending"})
    assert connector.offer()["status"] == "sending"

    synchronized = connector.create_log(
        SKU, interaction, data={"Status": "Synchronized", "Price": 124, "Currency": "BRL"}
    )
    assert synchronized["data"] == {"price": "124", "currency": "BRL", "status": "synced"}
    assert connector.offer()["status"] == "sending"
    connector.close(SKU, interaction)

    offer = connector.offer()
    assert (offer["status"], offer["price"], offer["currency"]) == ("synced", "124", "BRL")
    assert offer["openErrors"] == []
    read = connector.interaction(SKU, interaction)
    assert (read["state"], read["context"], read["origin"]) == ("closed", "ongoing", "price")
    assert read["startDate"] == "2026-12-03T14:05:09.000Z"
    assert [log["date"] for log in read["logs"]] == ["2026-12-03T14:05:09.000Z"] * 2


def test_the_inventory_flow_with_day_first_dates_ends_synced_with_its_inventory(
    connector: DotNetConnector,
) -> None:
    interaction = connector.create_interaction(SKU, "inventory", start=DAY_FIRST)
    connector.create_log(
        SKU, interaction, description="sdk test", date=DAY_FIRST, data={"Status": "Sending"}
    )
    assert connector.offer()["status"] == "sending"
    connector.create_log(
        SKU, interaction, date=DAY_FIRST, data={"Status": "Synchronized", "Inventory": 8}
    )
    connector.close(SKU, interaction)

    offer = connector.offer()
    assert (offer["status"], offer["inventory"]) == ("synced", "8")
    read = connector.interaction(SKU, interaction)
    assert [log["data"] for log in read["logs"]] == [
        {"status": "sending"},
        {"inventory": "8", "status": "synced"},
    ]


def test_a_price_error_keeps_the_offer_in_error_until_a_price_update_states_synchronized(
    connector: DotNetConnector,
) -> None:
    connector.synchronized_update(SKU, "price", {"Status": "Synchronized", "Price": 124})
    assert connector.offer()["status"] == "synced"

    refused = connector.create_interaction(SKU, "price")
    failure = connector.create_log(
        SKU,
        refused,
        type_="Failure",
        description="Price below the channel's floor",
        errors=[
            {
                "Code": "PRICE-001",
                "ExternalCode": "floor",
                "Title": "Price refused",
                "Description": "Price below the floor",
                "ClosableOrigins": None,
            }
        ],
    )
    assert failure["type"] == "failure"
    assert connector.offer()["status"] == "error"
    connector.close(SKU, refused)
    offer = connector.offer()
    assert offer["status"] == "error"
    assert [(e["code"], e["origin"]) for e in offer["openErrors"]] == [("PRICE-001", "price")]

    # The next price update: its Sending log leaves the offer in Error while it is open...
    fixing = connector.create_interaction(SKU, "price")
    connector.create_log(SKU, fixing, description="sdk test", data={"Status": "Sending"})
    assert connector.offer()["status"] == "error"
    connector.create_log(
        SKU, fixing, data={"Status": "Synchronized", "Price": 130, "Currency": "BRL"}
    )
    # ...and stating Synchronized on close clears the price error: the offer is Synced.
    connector.close(SKU, fixing)
    offer = connector.offer()
    assert (offer["status"], offer["price"], offer["openErrors"]) == ("synced", "130", [])


def test_a_price_update_stating_synchronized_leaves_a_catalog_error_open(
    connector: DotNetConnector,
) -> None:
    catalog = connector.create_interaction(SKU, "catalog", context="setup")
    connector.create_log(
        SKU,
        catalog,
        type_="Failure",
        errors=[{"Code": "CTLG-006-001", "Description": "HTML is not allowed"}],
    )
    connector.close(SKU, catalog)
    assert connector.offer()["status"] == "error"

    connector.synchronized_update(SKU, "price", {"Status": "Synchronized", "Price": 124})
    offer = connector.offer()
    assert (offer["status"], offer["price"]) == ("error", "124")
    assert [e["code"] for e in offer["openErrors"]] == ["CTLG-006-001"]


@pytest.mark.parametrize("spelling", ["Synchronized", "synchronized", "SYNCHRONIZED", "Synced"])
def test_every_spelling_of_synchronized_ends_synced(
    connector: DotNetConnector, spelling: str
) -> None:
    interaction = connector.synchronized_update(
        SKU, "inventory", {"Status": spelling, "Inventory": 8}
    )
    offer = connector.offer()
    assert (offer["status"], offer["inventory"]) == ("synced", "8")
    logs = connector.interaction(SKU, interaction)["logs"]
    assert logs[-1]["data"] == {"inventory": "8", "status": "synced"}

"""Channels and feeds through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.conftest import ACCOUNT, FEED, Api


def test_create_channel_answers_its_vendor_dot_slug_id(api: Api) -> None:
    response = api.channel(vendor="vtex", name="Mercado Livre Clássico")
    assert response.status_code == 201
    assert response.json() == {
        "id": "vtex.mercado-livre-classico",
        "vendor": "vtex",
        "name": "Mercado Livre Clássico",
        "logo": "https://l/x.png",
    }


def test_creating_an_existing_channel_is_a_conflict(api: Api) -> None:
    assert api.channel().status_code == 201
    response = api.channel()
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "channel_exists"


def test_activate_feed_answers_the_contract_shape(api: Api) -> None:
    api.channel()
    response = api.activate()
    assert response.status_code == 201
    assert response.json() == {
        "account": ACCOUNT,
        "id": FEED,
        "affiliateId": "AMZ",
        "salesChannel": "1",
    }


def test_activating_a_feed_for_an_unknown_channel_is_not_found(api: Api) -> None:
    response = api.activate("vtex.nowhere")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "id"


def test_activating_an_active_feed_is_a_conflict(ready: Api) -> None:
    response = ready.activate()
    assert response.status_code == 409
    assert "Update Feed" in response.json()["errors"][0]["message"]


def test_list_and_get_feed_carry_the_channel_name_and_logo(ready: Api) -> None:
    expected = {
        "account": ACCOUNT,
        "id": FEED,
        "affiliateId": "AMZ",
        "salesChannel": "1",
        "channelName": "Amazon",
        "channelLogo": "https://l/x.png",
    }
    assert ready.get("/feeds").json() == [expected]
    assert ready.get(f"/feeds/{FEED}").json() == expected


def test_update_feed_changes_affiliate_and_sales_channel(ready: Api) -> None:
    response = ready.request(
        "PUT", f"/feeds/{FEED}", json={"affiliateId": "NEW", "salesChannels": "7"}
    )
    assert response.status_code == 204
    assert response.content == b""
    feed = ready.get(f"/feeds/{FEED}").json()
    assert (feed["affiliateId"], feed["salesChannel"]) == ("NEW", "7")


def test_deactivated_feed_is_hidden_and_rejects_writes(ready: Api) -> None:
    interaction = ready.open("1")
    response = ready.request("DELETE", f"/feeds/{FEED}")
    assert response.status_code == 204
    assert response.content == b""
    assert ready.get("/feeds").json() == []
    assert ready.get(f"/feeds/{FEED}").status_code == 404
    assert ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}").status_code == 404
    write = ready.log("1", interaction, {"type": "information", "description": "x"})
    assert write.status_code == 409
    assert write.json()["errors"][0]["code"] == "feed_deactivated"
    update = ready.request("PUT", f"/feeds/{FEED}", json={"affiliateId": "A", "salesChannel": "1"})
    assert update.status_code == 409


def test_deactivating_twice_is_a_conflict(ready: Api) -> None:
    assert ready.request("DELETE", f"/feeds/{FEED}").status_code == 204
    assert ready.request("DELETE", f"/feeds/{FEED}").status_code == 409


def test_activating_a_deactivated_feed_reactivates_it_with_its_data(ready: Api) -> None:
    interaction = ready.open("1")
    ready.request("DELETE", f"/feeds/{FEED}")
    response = ready.post("/feeds", {"id": FEED, "affiliateId": "AGAIN", "salesChannel": "2"})
    assert response.status_code == 201
    shown = ready.get(f"/feeds/{FEED}/skus/1/interactions/{interaction}")
    assert shown.status_code == 200
    assert shown.json()["id"] == interaction
    assert ready.get(f"/feeds/{FEED}").json()["affiliateId"] == "AGAIN"


def test_unknown_feed_is_not_found_for_interactions(ready: Api) -> None:
    response = ready.post(
        "/feeds/vtex.nowhere/skus/1/interactions",
        {"source": "seller", "origin": "catalog", "context": "setup"},
    )
    assert response.status_code == 404

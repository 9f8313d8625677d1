"""Credentials and accounts with the SDK, against the real service, on both clients.

Who calls: the client's credentials, or a call's own (``credentials=``); an AppKey/AppToken
pair or the VTEX ID token ``login`` exchanges it for. Which account: each call's, or the one
a client was bound to with ``for_account``.
"""

from __future__ import annotations

import pytest

from sentoffers.client import (
    AuthenticationError,
    FeedCreate,
    PermissionDeniedError,
    SentOffersCredentials,
)
from tests.e2e.client_flows import Sdk, activated_feed, flow
from tests.e2e.service_process import ServiceProcess, create_key

LOGO = "https://example.com/logo.png"


@flow("get_feed", "list_feeds", "login")
async def test_credentials_act_per_client_and_per_call(
    sdk: Sdk, account: str, shared_service: ServiceProcess, admin_credentials: SentOffersCredentials
) -> None:
    feed_id = await activated_feed(sdk, account)
    other = f"{account}-other"
    key = create_key(shared_service.database_url, account)
    connector = SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)

    as_connector = sdk.with_credentials(connector)
    assert (await as_connector.get_feed(account, feed_id)).raise_for_errors().id == feed_id
    denied = await as_connector.list_feeds(other)
    assert (denied.status_code, denied.errors[0].code) == (403, "forbidden")
    with pytest.raises(PermissionDeniedError):
        denied.raise_for_errors()
    # A call's credentials win over the client's, both ways.
    assert (await as_connector.list_feeds(other, credentials=admin_credentials)).ok
    assert (await sdk.list_feeds(other, credentials=connector)).status_code == 403

    login = (await as_connector.login(key.app_key, key.app_token)).raise_for_errors()
    token = SentOffersCredentials(token=login.token)
    as_token = sdk.with_credentials(token)
    assert (await as_token.get_feed(account, feed_id)).status_code == 200
    assert (await as_token.list_feeds(other)).status_code == 403
    assert (await sdk.list_feeds(other, credentials=token)).status_code == 403

    anonymous = sdk.with_credentials(None)
    missing = await anonymous.list_feeds(account)
    assert (missing.status_code, missing.errors[0].code) == (401, "unauthorized")
    with pytest.raises(AuthenticationError):
        missing.raise_for_errors()
    assert (await anonymous.list_feeds(account, credentials=token)).ok
    async with anonymous.interaction(
        account, feed_id, "1", origin="price", credentials=token
    ) as it:
        await it.success("Price accepted")
    assert it.closed
    wrong = SentOffersCredentials(app_key=key.app_key, app_token="not-the-token")
    assert (await sdk.get_feed(account, feed_id, credentials=wrong)).status_code == 401


@flow("create_channel", "create_feed", "get_feed", "create_unified_interaction", "list_offers")
async def test_a_client_bound_to_an_account_acts_on_that_account_only(
    sdk: Sdk, account: str
) -> None:
    bound = sdk.for_account(account)
    channel = await bound.create_channel({"vendor": "vtex", "name": account, "logo": LOGO})
    feed_id = channel.raise_for_errors().id
    created = await bound.create_feed(FeedCreate(id=feed_id, affiliate_id="AFL", sales_channel="1"))
    assert created.raise_for_errors().account == account
    assert (await bound.get_feed(feed_id)).raise_for_errors().account == account
    success = {"source": "channel", "origin": "price", "context": "ongoing", "type": "success"}
    unified = (await bound.create_unified_interaction(feed_id, "1", success)).raise_for_errors()
    assert (unified.account, unified.offer_status) == (account, "synced")
    page = (await bound.list_offers(status="synced")).raise_for_errors()
    assert [(offer.feed_id, offer.sku_id) for offer in page.items] == [(feed_id, "1")]
    # Operations that name no account work the same on a bound client.
    assert (await bound.get_error_code("CTLG-006")).ok
    assert (await sdk.list_offers(f"{account}-other")).raise_for_errors().items == []

"""Every operation of the SDK against the real service over HTTP, on both clients.

Each ``@flow`` test runs twice, on ``SentOffersClient`` and on ``AsyncSentOffersClient``
(see ``client_flows``), against one ``sentoffers serve`` process; each works in an account
of its own. The two guard tests at the end keep the SDK, these tests and the service's
routes in step.
"""

from __future__ import annotations

import inspect
import re
import time
from typing import get_type_hints

import httpx
import pytest

from sentoffers.client import (
    AuthenticationError,
    BatchItem,
    BatchRead,
    ChannelCreate,
    ChannelRead,
    ConflictError,
    Context,
    ErrorCodeCreate,
    ErrorCodeRead,
    FeedCreated,
    FeedUpdate,
    InteractionCreate,
    InteractionRead,
    KeyCreate,
    KnownCode,
    LogCreate,
    LogCreated,
    LogData,
    LogRead,
    LogType,
    NotFoundError,
    OfferDetails,
    OperationSet,
    Origin,
    SentOffersCredentials,
    Source,
    UnifiedCreate,
    UnifiedRead,
    ValidationError,
    error_entry,
)
from tests.e2e.client_flows import DECLARED, OPERATIONS, Sdk, activated_feed, flow
from tests.e2e.service_process import ServiceProcess

LOGO = "https://example.com/logo.png"


# --- channels and feeds -------------------------------------------------------------------


@flow("create_channel", "create_feed", "list_feeds", "get_feed", "update_feed", "delete_feed")
async def test_a_feed_is_activated_read_updated_and_deactivated(sdk: Sdk, account: str) -> None:
    name = f"Shop {account}"
    channel = await sdk.create_channel(account, ChannelCreate(vendor="VTEX", name=name, logo=LOGO))
    assert channel.status_code == 201
    feed_id = f"vtex.shop-{account}"
    assert channel.data == ChannelRead(id=feed_id, vendor="VTEX", name=name, logo=LOGO)
    again = await sdk.create_channel(account, {"Vendor": "vtex", "Name": name, "Logo": LOGO})
    assert (again.ok, again.status_code, again.errors[0].code) == (False, 409, "channel_exists")
    with pytest.raises(ConflictError):
        again.raise_for_errors()

    incomplete = await sdk.create_feed(account, {"Id": feed_id})
    assert incomplete.status_code == 400
    assert {error.field for error in incomplete.errors} == {"affiliateId", "salesChannel"}
    with pytest.raises(ValidationError):
        incomplete.raise_for_errors()
    # As the .NET SDK sends it: PascalCase, its own spelling, a number for a string.
    created = await sdk.create_feed(
        account, {"Id": feed_id, "AffiliatedId": "AFL", "SalesChannel": 1}
    )
    assert created.status_code == 201
    assert created.data == FeedCreated(
        account=account, id=feed_id, affiliate_id="AFL", sales_channel="1"
    )
    active = await sdk.create_feed(account, {"id": feed_id, "affiliateId": "A", "sc": "1"})
    assert (active.status_code, active.errors[0].code) == (409, "feed_active")

    change = FeedUpdate(affiliate_id="AF2", sales_channel="2")
    updated = await sdk.update_feed(account, feed_id, change)
    assert (updated.status_code, updated.data) == (204, None)
    feed = (await sdk.get_feed(account, feed_id)).raise_for_errors()
    assert (feed.affiliate_id, feed.sales_channel) == ("AF2", "2")
    assert (feed.channel_name, feed.channel_logo) == (name, LOGO)
    assert (await sdk.list_feeds(account)).raise_for_errors() == [feed]

    deactivated = await sdk.delete_feed(account, feed_id)
    assert (deactivated.status_code, deactivated.data) == (204, None)
    assert (await sdk.list_feeds(account)).raise_for_errors() == []
    gone = await sdk.get_feed(account, feed_id)
    assert (gone.ok, gone.status_code) == (False, 404)


@flow("get_feed")
async def test_an_unknown_feed_answers_404_and_raises_not_found(sdk: Sdk, account: str) -> None:
    unknown = await sdk.get_feed(account, "vtex.nowhere")
    assert (unknown.ok, unknown.status_code, unknown.data) == (False, 404, None)
    assert (unknown.errors[0].code, unknown.errors[0].field) == ("not_found", "feedId")
    assert unknown.request_id
    with pytest.raises(NotFoundError) as raised:
        unknown.raise_for_errors()
    assert (raised.value.status_code, raised.value.codes) == (404, ["not_found"])
    assert raised.value.request_id == unknown.request_id


# --- interactions and logs ----------------------------------------------------------------


@flow("create_interaction", "create_log", "get_log", "close_interaction", "get_interaction")
async def test_an_interaction_is_opened_logged_read_and_closed(sdk: Sdk, account: str) -> None:
    feed_id = await activated_feed(sdk, account)
    opening = InteractionCreate(source=Source.SELLER, origin=Origin.CATALOG, context=Context.SETUP)
    opened = await sdk.create_interaction(account, feed_id, "1", opening)
    assert opened.status_code == 201
    interaction = opened.data
    assert isinstance(interaction, InteractionRead)
    assert (interaction.feed_id, interaction.sku_id, interaction.context) == (feed_id, "1", "setup")
    assert (interaction.state, interaction.result) == ("open", "processing")
    ids = (account, feed_id, "1", interaction.id)

    data = LogData(price="124", currency="BRL")
    info = await sdk.create_log(
        *ids, LogCreate(type=LogType.INFORMATION, description="Sending", data=data)
    )
    assert info.status_code == 201
    assert isinstance(info.data, LogCreated)
    assert (info.data.type, info.data.data) == ("information", {"price": "124", "currency": "BRL"})
    dotnet = await sdk.create_log(
        *ids,
        {"Type": "Success", "Description": "Accepted", "Agent": "e2e", "Errors": None,
         "Data": {"Status": "Synchronized", "Price": 124, "Inventory": 8}},
    )  # fmt: skip
    assert (dotnet.status_code, dotnet.data.type, dotnet.data.agent) == (201, "success", "e2e")
    assert dotnet.data.data == {"status": "synced", "price": "124", "inventory": "8"}

    read = (await sdk.get_log(*ids, info.data.id)).raise_for_errors()
    assert isinstance(read, LogRead)
    assert (read.id, read.interaction_id, read.description) == (info.data.id, ids[3], "Sending")
    assert (await sdk.get_log(*ids, "no-such-log")).status_code == 404

    closed = await sdk.close_interaction(*ids)
    assert (closed.status_code, closed.data) == (204, None)
    twice = await sdk.close_interaction(*ids)
    assert (twice.status_code, twice.errors[0].code) == (409, "interaction_closed")
    late = await sdk.create_log(*ids, {"type": "info", "description": "too late"})
    with pytest.raises(ConflictError):
        late.raise_for_errors()

    done = (await sdk.get_interaction(*ids)).raise_for_errors()
    assert (done.state, done.result) == ("closed", "success")
    assert done.closed_at is not None
    assert [log.id for log in done.logs] == [info.data.id, dotnet.data.id]
    assert (await sdk.get_interaction(account, feed_id, "1", "F" * 32)).status_code == 404


@flow("create_unified_interaction", "create_unified_batch")
async def test_the_unified_contract_answers_one_interaction_per_call_or_per_batch_item(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    price = UnifiedCreate(
        source=Source.CHANNEL, origin=Origin.PRICE, context=Context.ONGOING,
        type=LogType.SUCCESS, description="Price accepted", data=LogData(price="9.90"),
    )  # fmt: skip
    unified = await sdk.create_unified_interaction(account, feed_id, "1", price)
    assert unified.status_code == 201
    assert isinstance(unified.data, UnifiedRead)
    assert (unified.data.state, unified.data.result) == ("closed", "success")
    assert unified.data.offer_status == "synced"
    assert unified.data.logs[0].data == {"price": "9.90"}

    # The SDK document's example, with the .NET SDK's nulls.
    example = {
        "Date": "2021-10-15T16:20:19.561754Z", "Source": "channel", "Origin": "catalog",
        "Context": "ongoing", "Description": "Info example", "Type": "Info",
        "Agent": "My-Conector", "Evidence": None, "Data": None, "Errors": None,
    }  # fmt: skip
    dotnet = await sdk.create_unified_interaction(account, feed_id, "2", example)
    assert (dotnet.status_code, dotnet.data.result) == (201, "notification")
    assert (dotnet.data.start_date, dotnet.data.offer_status) == (
        "2021-10-15T16:20:19.561Z",
        "sending",
    )
    bad = {"source": "x", "origin": "y", "context": "setup", "type": "nope"}
    refused = await sdk.create_unified_interaction(account, feed_id, "3", bad)
    assert refused.status_code == 400
    assert {error.field for error in refused.errors} == {"source", "origin", "type"}

    catalog = {"Source": "channel", "Origin": "catalog", "Context": "setup"}
    items = [
        BatchItem(sku_id="4", source=Source.CHANNEL, origin=Origin.CATALOG,
                  context=Context.SETUP, type=LogType.SUCCESS),
        # One object where a list is due, as some connectors send it.
        {**catalog, "SkuId": "5", "Type": "Failure", "Errors": {"Code": "CTLG-006-001"}},
        {**catalog, "SkuId": "6", "Origin": "shipping"},
    ]  # fmt: skip
    batch = await sdk.create_unified_batch(account, feed_id, items)
    assert batch.status_code == 200
    assert isinstance(batch.data, BatchRead)
    assert (batch.data.succeeded, batch.data.failed) == (2, 1)
    assert [(item.sku_id, item.status) for item in batch.data.items[:2]] == [("4", 201), ("5", 201)]
    assert [item.offer_status for item in batch.data.items[:2]] == ["synced", "error"]
    assert batch.data.items[2].status == 400
    assert "origin" in {error.field for error in batch.data.items[2].errors}


@flow("create_unified_batch", "get_interaction")
async def test_a_batch_item_with_several_logs_is_sent_from_models_and_answers_every_log_id(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    refused = [error_entry(KnownCode.CTLG_007)]
    steps = [
        LogCreate(type=LogType.INFORMATION, description="SKU validated", date="2024-03-01"),
        LogCreate(type=LogType.WARNING, description="Throttled, retried"),
        LogCreate(type=LogType.FAILURE, description="Refused", errors=refused),
    ]
    catalog = {"source": Source.CHANNEL, "origin": Origin.CATALOG, "context": Context.SETUP}
    items = [
        BatchItem(sku_id="1", logs=steps, **catalog),
        {**catalog, "SkuId": "2", "Logs": [{"Type": "Info"}, {"Type": "Success"}]},
        {**catalog, "skuId": "3", "type": "success", "logs": [{"type": "success"}]},
    ]
    batch = (await sdk.create_unified_batch(account, feed_id, items)).raise_for_errors()
    first, second, both = batch.items
    assert (first.result, first.offer_status, len(first.log_ids)) == ("failure", "error", 3)
    assert first.log_id == first.log_ids[-1]
    assert (second.result, second.offer_status, len(second.log_ids)) == ("success", "synced", 2)
    assert (both.status, {error.field for error in both.errors}) == (400, {"type"})

    assert first.interaction_id is not None
    stored = await sdk.get_interaction(account, feed_id, "1", first.interaction_id)
    logs = stored.raise_for_errors().logs
    assert [log.id for log in logs] == first.log_ids
    assert [log.type for log in logs] == ["information", "warning", "failure"]
    assert logs[0].date == "2024-03-01T00:00:00.000Z"


# --- offers and searches ------------------------------------------------------------------


async def offers_in_every_status(sdk: Sdk, account: str) -> str:
    """SKU 1 synced (catalog, then price), 2 in error, 3 unavailable, 4 sending."""
    feed_id = await activated_feed(sdk, account)
    catalog = {"source": "channel", "origin": "catalog", "context": "setup"}
    answer = await sdk.create_unified_batch(
        account,
        feed_id,
        [
            {
                **catalog,
                "skuId": "1",
                "type": "success",
                "data": {"brand": "Acme", "name": "Shirt"},
            },
            {**catalog, "skuId": "2", "type": "failure", "errors": [{"code": "CTLG-006-001"}]},
            {**catalog, "skuId": "3", "type": "info", "data": {"status": "unavailable"}},
        ],
    )
    assert answer.raise_for_errors().failed == 0
    price = {"source": "channel", "origin": "price", "context": "ongoing", "type": "success"}
    (await sdk.create_unified_interaction(account, feed_id, "1", price)).raise_for_errors()
    opening = {"source": "seller", "origin": "catalog", "context": "setup"}
    (await sdk.create_interaction(account, feed_id, "4", opening)).raise_for_errors()
    return feed_id


@flow("list_offers", "get_offer", "list_offer_interactions")
async def test_offer_reads_follow_their_filters_sort_and_window(sdk: Sdk, account: str) -> None:
    feed_id = await offers_in_every_status(sdk, account)

    async def skus(**filters: object) -> list[str]:
        page = (await sdk.list_offers(account, **filters)).raise_for_errors()
        return [offer.sku_id for offer in page.items]

    every = (await sdk.list_offers(account)).raise_for_errors()
    assert (every.counts.synced, every.counts.error, every.counts.unavailable) == (1, 1, 1)
    assert (every.counts.sending, every.paging.total) == (1, 4)
    assert await skus(status=["synced", "error"], sort="skuId:asc") == ["1", "2"]
    assert await skus(status="unavailable") == ["3"]
    window = (await sdk.list_offers(account, sort="skuId:desc", from_=1, to=2)).raise_for_errors()
    assert [offer.sku_id for offer in window.items] == ["3", "2"]
    assert (window.paging.from_, window.paging.to, window.paging.total) == (1, 2, 4)
    assert await skus(error_code="CTLG-006") == ["2"]
    assert await skus(brand="Acme", q="shirt") == ["1"]
    assert await skus(channel=[feed_id, "vtex.nowhere"], status="sending") == ["4"]
    assert await skus(stuck=True) == []  # SKU 4 entered Sending a moment ago
    assert sorted(await skus(stuck=False)) == ["1", "2", "3", "4"]
    assert every.counts.stuck == 0
    invalid = await sdk.list_offers(account, status=["synced", "live"])
    assert (invalid.status_code, invalid.errors[0].field) == (400, "status")

    offer = (await sdk.get_offer(account, feed_id, "2")).raise_for_errors()
    assert isinstance(offer, OfferDetails)
    assert offer.status == "error"
    [error] = offer.open_errors
    assert (error.code, error.error_code_id, error.origin) == (
        "CTLG-006-001",
        "CTLG-006",
        "catalog",
    )
    assert [change.to_status for change in offer.status_history] == ["error", "sending"]
    assert (await sdk.get_offer(account, feed_id, "no-such-sku")).status_code == 404

    history = (await sdk.list_offer_interactions(account, feed_id, "1")).raise_for_errors()
    assert [item.origin for item in history.items] == ["price", "catalog"]
    assert history.paging.total == 2
    only_catalog = await sdk.list_offer_interactions(account, feed_id, "1", origin=["catalog"])
    assert [item.origin for item in only_catalog.raise_for_errors().items] == ["catalog"]
    first = await sdk.list_offer_interactions(
        account, feed_id, "1", result="success", sort="startDate:asc", from_=0, to=0
    )
    assert [item.origin for item in first.raise_for_errors().items] == ["catalog"]


@flow("search_interactions", "search_errors", "list_unmapped_errors")
async def test_searches_and_unmapped_errors_follow_their_filters(sdk: Sdk, account: str) -> None:
    feed_id = await offers_in_every_status(sdk, account)
    failure = {"source": "channel", "origin": "price", "context": "ongoing", "type": "failure"}
    for sku, floor in (("5", 12), ("6", 25)):
        unmapped = {**failure, "description": f"Price below {floor}"}
        unmapped["errors"] = [{"code": "MELI-4031", "description": f"below {floor}"}]
        (await sdk.create_unified_interaction(account, feed_id, sku, unmapped)).raise_for_errors()

    async def found(**filters: object) -> list[tuple[str, str]]:
        page = (await sdk.search_interactions(account, **filters)).raise_for_errors()
        return sorted((item.sku_id, item.origin) for item in page.items)

    assert await found(result=["failure"]) == [("2", "catalog"), ("5", "price"), ("6", "price")]
    assert await found(q="below", scope="price") == [("5", "price"), ("6", "price")]
    assert await found(q="shirt", scope=Origin.CATALOG) == [("1", "catalog")]
    window = await sdk.search_interactions(account, sort="skuId:asc", from_=0, to=1)
    assert [item.sku_id for item in window.raise_for_errors().items] == ["1", "1"]
    assert window.raise_for_errors().paging.total == 7

    every_code = (await sdk.search_errors(account)).raise_for_errors()
    assert {code.id for code in every_code.items} >= set(KnownCode)
    narrowed = (await sdk.search_errors(account, channels=[feed_id])).raise_for_errors()
    assert {code.id: code.open_errors for code in narrowed.items} == {
        "CTLG-006": 1,
        "NTMAP-001": 2,
    }
    described = await sdk.search_errors(account, channels=feed_id, error_category="Description")
    assert [code.id for code in described.raise_for_errors().items] == ["CTLG-006"]

    groups = (await sdk.list_unmapped_errors(account)).raise_for_errors()
    [group] = groups.items
    assert (group.sample_code, group.occurrences, group.offers_affected) == ("MELI-4031", 2, 2)
    empty = await sdk.list_unmapped_errors(account, sort="lastSeen:desc", from_=1, to=5)
    assert empty.raise_for_errors().items == []


# --- error codes, keys and credentials ----------------------------------------------------


@flow(
    "list_error_codes",
    "get_error_code",
    "create_error_code",
    "update_error_code",
    "delete_error_code",
)
async def test_error_codes_are_listed_read_created_replaced_and_deleted(
    sdk: Sdk, account: str, platform_credentials: SentOffersCredentials
) -> None:
    listed = (await sdk.list_error_codes()).raise_for_errors()
    assert {code.id for code in listed} >= set(KnownCode)
    [description] = (await sdk.get_error_code(KnownCode.CTLG_006)).raise_for_errors()
    assert (description.id, description.type) == ("CTLG-006", "Description")

    new_id, dotnet_id = f"{account.upper()}-001", f"{account.upper()}-002"
    # The global list is the platform's: an account's admin may not change it.
    refused = await sdk.create_error_code({"id": new_id, "type": "t", "description": "d"})
    assert (refused.status_code, refused.errors[0].code) == (403, "platform_only")
    sdk = sdk.with_credentials(platform_credentials)
    created = await sdk.create_error_code(
        ErrorCodeCreate(id=new_id, type="Shipping", description="Carrier refused")
    )
    assert created.status_code == 201
    assert created.data == ErrorCodeRead(id=new_id, type="Shipping", description="Carrier refused")
    dotnet = await sdk.create_error_code({"Id": dotnet_id, "Type": "Shipping", "Description": "d"})
    assert dotnet.raise_for_errors().id == dotnet_id
    exists = await sdk.create_error_code({"id": new_id, "type": "t", "description": "d"})
    assert (exists.status_code, exists.errors[0].code) == (409, "error_code_exists")
    invalid = await sdk.create_error_code({"id": "no dash", "type": "", "description": "d"})
    assert {error.field for error in invalid.errors} == {"id", "type"}

    replaced = await sdk.update_error_code(
        new_id, {"Type": "Shipping", "Description": "Carrier refused the parcel"}
    )
    assert replaced.raise_for_errors().description == "Carrier refused the parcel"
    [read] = (await sdk.get_error_code(new_id)).raise_for_errors()
    assert read == replaced.data

    deleted = await sdk.delete_error_code(new_id)
    assert (deleted.status_code, deleted.data) == (204, None)
    with pytest.raises(NotFoundError):
        (await sdk.get_error_code(new_id)).raise_for_errors()
    assert (await sdk.delete_error_code(KnownCode.NTMAP_001)).status_code == 400


@flow("create_channel", "update_channel")
async def test_only_the_platform_changes_a_channel_every_account_sees(
    sdk: Sdk, account: str, platform_credentials: SentOffersCredentials
) -> None:
    name = f"Shop {account}"
    created = await sdk.create_channel(account, {"vendor": "vtex", "name": name, "logo": LOGO})
    channel_id = created.raise_for_errors().id

    refused = await sdk.update_channel(channel_id, {"name": "Mine now", "logo": LOGO})
    assert refused.status_code == 403
    platform = sdk.with_credentials(platform_credentials)
    changed = await platform.update_channel(channel_id, {"Name": f"{name} Brasil", "Logo": LOGO})

    assert changed.raise_for_errors() == ChannelRead(
        id=channel_id, vendor="vtex", name=f"{name} Brasil", logo=LOGO
    )


@flow("create_key", "login", "revoke_key")
async def test_a_key_is_issued_exchanged_for_a_token_and_revoked(sdk: Sdk, account: str) -> None:
    issued = await sdk.create_key(
        KeyCreate.model_validate({"role": "connector", "accounts": [account]})
    )
    assert issued.status_code == 201
    key = issued.raise_for_errors()
    assert (key.role, key.accounts) == ("connector", [account])
    as_key = SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)

    login = await sdk.login(key.app_key, key.app_token)
    assert login.status_code == 200
    assert login.raise_for_errors().auth_status == "Success"
    assert login.data.expires > time.time()
    as_token = sdk.with_credentials(SentOffersCredentials(token=login.data.token))
    assert (await as_token.list_feeds(account)).status_code == 200
    assert (await as_token.list_feeds(f"{account}-other")).status_code == 403

    revoked = await sdk.revoke_key(key.app_key)
    assert (revoked.status_code, revoked.data) == (204, None)
    assert (await sdk.list_feeds(account, credentials=as_key)).status_code == 401
    assert (await as_token.list_feeds(account)).status_code == 401
    with pytest.raises(AuthenticationError):
        (await sdk.login(key.app_key, key.app_token)).raise_for_errors()


# --- guards -------------------------------------------------------------------------------

PLACEHOLDER = "placeholder"
NOT_SDK_ROUTES = {"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def route_of(operation: str) -> tuple[str, str]:
    """The method and path template an operation calls, e.g. ``("GET", "/feeds/{}")``."""
    build = vars(OperationSet)[operation].build
    hints = get_type_hints(build)
    # The required arguments: path values and bodies (credentials have a default).
    arguments = [
        PLACEHOLDER if hints[parameter.name] is str else {}
        for parameter in inspect.signature(build).parameters.values()
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        and parameter.default is inspect.Parameter.empty
    ]
    call = build(*arguments)
    return call.method, call.path.replace(PLACEHOLDER, "{}")


def test_every_operation_of_the_sdk_is_exercised_by_a_flow() -> None:
    assert DECLARED == OPERATIONS, f"no flow exercises {sorted(OPERATIONS - DECLARED)}"


def test_every_route_of_the_service_has_an_operation_in_the_sdk(
    shared_service: ServiceProcess,
) -> None:
    spec = httpx.get(f"{shared_service.base_url}/openapi.json", timeout=10).json()
    routes = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in spec["paths"].items()
        if path not in NOT_SDK_ROUTES
        for method in operations
    }
    covered = {route_of(operation) for operation in OPERATIONS}
    assert sorted(routes - covered) == [], "routes without an SDK operation"
    assert sorted(covered - routes) == [], "SDK operations the service does not serve"

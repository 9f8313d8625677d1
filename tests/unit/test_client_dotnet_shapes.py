"""The SDK document's .NET calls, ported as written: per-call credentials in last position,
the DTOs under their .NET names with PascalCase properties, the .NET enum words, and the
values the .NET SDK sends. Requests are built without I/O and read as the service would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentoffers.client import (
    Context,
    CreateLogDataRequest,
    CreateLogDTO,
    CreateLogErrorRequest,
    DataStatus,
    FeedCreate,
    FeedCreateDTO,
    InteractionContextType,
    InteractionCreate,
    InteractionCreateDTO,
    InteractionSourceType,
    LogType,
    Origin,
    OriginType,
    SentOffersCredentials,
    Source,
    UnifiedInteractionCreateDTO,
)
from sentoffers.client._api import (
    close_interaction,
    create_feed,
    create_interaction,
    create_log,
    create_unified_interaction,
    delete_feed,
    get_offer,
)
from sentoffers.client._base import BaseClient
from sentoffers.client._operations import Call

DEFAULT = SentOffersCredentials(app_key="vtexappkey-client-default", app_token="default")
CREDENTIALS = SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="secret")
INTERACTION = "3DB3542A2C93412298AC95964A66A995"


def sent(call: Call[Any]) -> tuple[dict[str, str], Any]:
    """The headers and the JSON body a client with other default credentials would send."""
    request = BaseClient("http://so.test", credentials=DEFAULT).request(call, None, "r-1")
    body = json.loads(request.content) if request.content else None
    return dict(request.headers), body


def as_caller(headers: dict[str, str]) -> tuple[str | None, str | None]:
    return headers.get("x-vtex-api-appkey"), headers.get("x-vtex-api-apptoken")


# --- every call of the document, credentials last -----------------------------------------


def test_the_documents_calls_send_the_credentials_they_are_given_in_last_position() -> None:
    feed = FeedCreateDTO(Id="vtex.marketplace", SalesChannel="1", AffiliatedId="AFL")
    opening = InteractionCreateDTO(
        StartDate="12/3/2026 2:05:09 PM",
        Source=InteractionSourceType.seller,
        Origin=OriginType.inventory,
        Context=InteractionContextType.sync,
    )
    log = CreateLogDTO(
        Description="sdk test",
        Type="Info",
        Agent="channel",
        Date="12/3/2026 2:05:09 PM",
        Data=CreateLogDataRequest(Status="Sending"),
    )
    unified = UnifiedInteractionCreateDTO(
        Date="2021-10-15T16:20:19.561754Z",
        Source="channel",
        Origin="catalog",
        Context="ongoing",
        Description="Info example",
        Type="Info",
        Agent="My-Conector",
    )
    calls = [
        create_feed("account", feed, CREDENTIALS),
        delete_feed("account", "vtex.marketplace", CREDENTIALS),
        create_interaction("account", "vtex.marketplace", "1", opening, CREDENTIALS),
        create_log("account", "vtex.marketplace", "1", INTERACTION, log, CREDENTIALS),
        create_unified_interaction("account", "vtex.marketplace", "1", unified, CREDENTIALS),
        close_interaction("account", "vtex.marketplace", "1", INTERACTION, CREDENTIALS),
    ]
    for call in calls:
        assert as_caller(sent(call)[0]) == ("vtexappkey-acme-XYZ", "secret"), call.path


def test_positional_and_keyword_credentials_build_the_same_call() -> None:
    feed = {"Id": "vtex.marketplace", "SalesChannel": "1", "AffiliatedId": "AFL"}
    assert create_feed("acme", feed, CREDENTIALS) == create_feed(
        "acme", feed, credentials=CREDENTIALS
    )
    assert get_offer("acme", "vtex.marketplace", "1", CREDENTIALS).credentials == CREDENTIALS


def test_a_call_without_credentials_is_sent_with_the_clients() -> None:
    headers, _ = sent(delete_feed("acme", "vtex.marketplace"))
    assert as_caller(headers) == ("vtexappkey-client-default", "default")


def test_the_document_s_interaction_without_a_sku_says_where_the_sku_goes() -> None:
    opening = InteractionCreateDTO(Source="seller", Origin="inventory", Context="sync")
    with pytest.raises(TypeError, match="the SKU id comes before the interaction's body"):
        create_interaction("account", "vtex.marketplace", opening, CREDENTIALS)  # type: ignore[arg-type]


# --- credentials as the .NET class holds them ----------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"AppKey": "k", "AppToken": "t"}, SentOffersCredentials(app_key="k", app_token="t")),
        ({"app_key": "k", "app_token": "t"}, SentOffersCredentials(app_key="k", app_token="t")),
        (
            {"X-VTEX-API-AppKey": "k", "X-VTEX-API-AppToken": "t"},
            SentOffersCredentials(app_key="k", app_token="t"),
        ),
        ({"VtexIdToken": "io"}, SentOffersCredentials(token="io")),
        ({"VtexIdclientAutCookie": "io"}, SentOffersCredentials(token="io")),
        ({"AppKey": "k", "AppToken": "t", "Token": None}, SentOffersCredentials("k", "t")),
    ],
)
def test_credentials_given_as_a_mapping_of_their_dotnet_names(
    given: dict[str, str | None], expected: SentOffersCredentials
) -> None:
    assert SentOffersCredentials.coerce(given) == expected
    assert create_feed("acme", {}, given).credentials == expected


def test_a_vtex_io_token_given_per_call_travels_in_its_cookie_header() -> None:
    headers, _ = sent(delete_feed("acme", "vtex.marketplace", {"VtexIdToken": "io-token"}))
    assert headers["vtexidclientautcookie"] == "io-token"
    assert as_caller(headers) == (None, None)


def test_a_client_takes_its_credentials_as_a_mapping_too() -> None:
    client = BaseClient("http://so.test", credentials={"AppKey": "k", "AppToken": "t"})
    assert client.credentials == SentOffersCredentials(app_key="k", app_token="t")


def test_an_unknown_credential_key_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match=r"unknown credential keys \['AppSecret'\]"):
        create_feed("acme", {}, {"AppKey": "k", "AppSecret": "t"})


def test_credentials_as_a_string_fail_when_the_call_is_made() -> None:
    # The document's DeleteFeedAsync example quotes its credentials: "credentials".
    with pytest.raises(TypeError, match="not a str"):
        delete_feed("account", "vtex.marketplace", "credentials")  # type: ignore[arg-type]


# --- the DTOs and the enum words -------------------------------------------------------------


def test_the_dotnet_enum_words_are_the_sdks_own_members() -> None:
    assert InteractionContextType.sync is Context.ONGOING
    assert InteractionContextType.ongoing is Context.ONGOING
    assert InteractionContextType.setup is Context.SETUP
    assert (InteractionSourceType.seller, InteractionSourceType.channel) == (
        Source.SELLER,
        Source.CHANNEL,
    )
    assert (OriginType.catalog, OriginType.price, OriginType.inventory) == tuple(Origin)


def test_a_feed_dto_in_pascal_case_sends_what_the_python_spelling_sends() -> None:
    dotnet = FeedCreateDTO(Id="vtex.marketplace", SalesChannel="1", AffiliatedId="AFL")
    assert dotnet == FeedCreate(id="vtex.marketplace", sales_channel="1", affiliate_id="AFL")
    _, body = sent(create_feed("acme", dotnet))
    assert body == {"id": "vtex.marketplace", "affiliateId": "AFL", "salesChannel": "1"}


def test_an_interaction_dto_reads_sync_as_ongoing() -> None:
    opening = InteractionCreateDTO(
        StartDate="12/3/2026 2:05:09 PM", Source="seller", Origin="inventory", Context="sync"
    )
    assert opening == InteractionCreate.model_validate(
        {
            "startDate": "2026-12-03T14:05:09Z",
            "source": "seller",
            "origin": "inventory",
            "context": "ongoing",
        }
    )
    _, body = sent(create_interaction("acme", "vtex.marketplace", "1", opening))
    assert body == {
        "source": "seller",
        "origin": "inventory",
        "context": "ongoing",
        "startDate": "2026-12-03T14:05:09Z",
    }


@pytest.mark.parametrize(
    "date",
    ["12/3/2026 2:05:09 PM", "12/03/2026 14:05:09", "2026-12-03 14:05:09.123456"],
    ids=["en-US", "invariant", "str(datetime.now())"],
)
def test_the_price_update_log_of_the_document(date: str) -> None:
    log = CreateLogDTO(
        Description="SKU enviado ao marketplace",
        Type="Info",
        Agent="channel",
        Date=date,
        Data=CreateLogDataRequest(Status="Synchronized", Price=124, Currency="BRL"),
    )
    assert (log.type, log.date and log.date.date().isoformat()) == (
        LogType.INFORMATION,
        "2026-12-03",
    )
    assert log.data is not None
    assert (log.data.status, log.data.price, log.data.currency) == (DataStatus.SYNCED, "124", "BRL")
    _, body = sent(create_log("acme", "vtex.marketplace", "1", INTERACTION, log))
    assert body["type"] == "information"
    assert body["data"] == {"price": "124", "currency": "BRL", "status": "synced"}


def test_a_log_given_as_a_mapping_is_sent_as_given_for_the_service_to_read() -> None:
    log = {
        "Description": "SKU enviado ao marketplace",
        "Type": "Info",
        "Agent": "channel",
        "Data": {"Status": "Synchronized", "Inventory": 8},
    }
    _, body = sent(create_log("acme", "vtex.marketplace", "1", INTERACTION, log, CREDENTIALS))
    assert body == log


def test_the_catalog_failure_log_of_the_document() -> None:
    log = CreateLogDTO(
        Description="SKU enviado ao marketplace",
        Type="Failure",
        Agent="channel",
        Date="12/3/2026 2:05:09 PM",
        Errors=[CreateLogErrorRequest(Code="CTLG-006-001", Description="HTML is not allowed")],
    )
    _, body = sent(create_log("acme", "vtex.marketplace", "1", INTERACTION, log))
    assert body["type"] == "failure"
    assert body["errors"] == [
        {"code": "CTLG-006-001", "description": "HTML is not allowed", "closableOrigins": []}
    ]

"""Every operation of the service, described once (see ``_operations``).

Argument order follows the .NET SDK: the account, then the path's ids, then the body, then
the call's own ``credentials`` (by position, as ``CreateFeedAsync(account, dto,
credentials)`` passes them, or by keyword); then keyword-only options. Operations with query
filters take ``credentials`` by keyword only. Bodies are the service's own models, or plain
mappings sent as given (PascalCase keys and .NET spellings are accepted, as the service
accepts them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from sentoffers.client._credentials import CredentialsLike
from sentoffers.client._operations import API, Call, Operation, Unscoped, segment
from sentoffers.contract.channels import ChannelCreate, ChannelRead, ChannelUpdate
from sentoffers.contract.error_codes import ErrorCodeCreate, ErrorCodeRead, ErrorCodeUpdate
from sentoffers.contract.feeds import FeedCreate, FeedCreated, FeedRead, FeedUpdate
from sentoffers.contract.interactions import (
    BatchItem,
    BatchRead,
    InteractionCreate,
    InteractionRead,
    LogCreate,
    LogCreated,
    LogRead,
    UnifiedCreate,
    UnifiedRead,
)
from sentoffers.contract.keys import AppTokenIssued, AppTokenLogin, KeyCreate, KeyCreated
from sentoffers.contract.offers import (
    InteractionSummaryPage,
    OfferDetails,
    OfferPage,
    UnmappedErrorPage,
)
from sentoffers.contract.search import ErrorSearchPage, InteractionSearchPage

__all__ = ["OperationSet"]

Credentials = CredentialsLike
"""A call's own credentials: ``SentOffersCredentials``, a mapping of them, or ``None``."""
Values = str | Sequence[str] | None
"""One value, or several sent as a comma list."""


def _body(value: BaseModel | Mapping[str, Any]) -> BaseModel | dict[str, Any]:
    """A model as it is; a mapping as given, for the service to validate (so a bad batch
    item fails alone, and every problem comes back in the response's ``errors``)."""
    return value if isinstance(value, BaseModel) else dict(value)


def _csv(value: Values) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _window(from_: int | None, to: int | None) -> dict[str, str]:
    return {key: str(value) for key, value in (("from", from_), ("to", to)) if value is not None}


def _interactions(feed_id: str, sku_id: str) -> str:
    return f"{API}/feeds/{segment(feed_id)}/skus/{segment(sku_id)}/interactions"


# Channels and feeds ----------------------------------------------------------------------


def create_channel(
    account: str,
    channel: ChannelCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[ChannelRead]:
    """Register a marketplace channel (``vendor.name``, e.g. ``vtex.netshoes``)."""
    return Call(
        "POST", f"{API}/channels", ChannelRead, account, body=_body(channel),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def update_channel(
    channel_id: str,
    channel: ChannelUpdate | Mapping[str, Any],
    credentials: Credentials = None,
) -> Call[ChannelRead]:
    """Change a channel's name and logo, as every account sees them (platform)."""
    return Call(
        "PUT", f"{API}/channels/{segment(channel_id)}", ChannelRead,
        body=_body(channel), credentials=credentials,
    )  # fmt: skip


def create_feed(
    account: str,
    feed: FeedCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[FeedCreated]:
    """Activate a feed: the seller's affiliate and sales channel on a channel.

    ``CreateFeedAsync`` of the .NET SDK.
    """
    return Call(
        "POST", f"{API}/feeds", FeedCreated, account, body=_body(feed),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def list_feeds(account: str, credentials: Credentials = None) -> Call[list[FeedRead]]:
    """The account's active feeds."""
    return Call("GET", f"{API}/feeds", list[FeedRead], account, credentials=credentials)


def get_feed(account: str, feed_id: str, credentials: Credentials = None) -> Call[FeedRead]:
    """One feed, with its channel's name and logo."""
    return Call(
        "GET", f"{API}/feeds/{segment(feed_id)}", FeedRead, account, credentials=credentials
    )


def update_feed(
    account: str,
    feed_id: str,
    feed: FeedUpdate | Mapping[str, Any],
    credentials: Credentials = None,
) -> Call[None]:
    """Change a feed's affiliate or sales channel."""
    return Call(
        "PUT", f"{API}/feeds/{segment(feed_id)}", None, account, body=_body(feed),
        credentials=credentials,
    )  # fmt: skip


def delete_feed(account: str, feed_id: str, credentials: Credentials = None) -> Call[None]:
    """Deactivate a feed: its offers leave the seller's views; nothing is deleted.

    ``DeleteFeedAsync`` of the .NET SDK.
    """
    return Call("DELETE", f"{API}/feeds/{segment(feed_id)}", None, account, credentials=credentials)


# Interactions and logs -------------------------------------------------------------------


def create_interaction(
    account: str,
    feed_id: str,
    sku_id: str,
    interaction: InteractionCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[InteractionRead]:
    """Open an interaction on an offer (``CreateInteractionAsync`` of the .NET SDK).

    The SDK document's example of ``CreateInteractionAsync`` leaves the SKU out, but an
    interaction is opened on one SKU (``POST /feeds/{feedId}/skus/{skuId}/interactions``):
    its id goes between the feed's id and the body, as in ``CreateLogAsync``.
    """
    if isinstance(sku_id, BaseModel | Mapping):
        raise TypeError(
            "create_interaction(account, feed_id, sku_id, interaction, credentials): the SKU "
            f"id comes before the interaction's body, got a {type(sku_id).__name__} instead"
        )
    return Call(
        "POST", _interactions(feed_id, sku_id), InteractionRead, account,
        body=_body(interaction),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def get_interaction(
    account: str, feed_id: str, sku_id: str, interaction_id: str, credentials: Credentials = None
) -> Call[InteractionRead]:
    """One interaction with its logs."""
    return Call(
        "GET", f"{_interactions(feed_id, sku_id)}/{segment(interaction_id)}", InteractionRead,
        account, credentials=credentials,
    )  # fmt: skip


def close_interaction(
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[None]:
    """Close an interaction: its result is decided and the offer's status follows.

    ``CloseInteractionAsync`` of the .NET SDK; what makes the update visible to sellers.
    """
    return Call(
        "POST", f"{_interactions(feed_id, sku_id)}/{segment(interaction_id)}/close", None,
        account, credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def create_log(
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    log: LogCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[LogCreated]:
    """Add a log to an open interaction (``CreateLogAsync`` of the .NET SDK).

    ``log`` is a ``LogCreate`` (``CreateLogDTO``) or a mapping, in the document's shapes
    too: ``Type="Info"``, ``Data={"Status": "Synchronized", "Price": 124}``, a
    ``DateTime.Now.ToString()`` date.
    """
    return Call(
        "POST", f"{_interactions(feed_id, sku_id)}/{segment(interaction_id)}/logs", LogCreated,
        account, body=_body(log),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def get_log(
    account: str,
    feed_id: str,
    sku_id: str,
    interaction_id: str,
    log_id: str,
    credentials: Credentials = None,
) -> Call[LogRead]:
    """One log (410 once purged after the retention period)."""
    path = f"{_interactions(feed_id, sku_id)}/{segment(interaction_id)}/logs/{segment(log_id)}"
    return Call("GET", path, LogRead, account, credentials=credentials)


def create_unified_interaction(
    account: str,
    feed_id: str,
    sku_id: str,
    unified: UnifiedCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[UnifiedRead]:
    """Open an interaction, log once and close it, in one call.

    ``CreateUnifiedInteractionAsync`` of the .NET SDK.
    """
    return Call(
        "POST", f"{_interactions(feed_id, sku_id)}/unified", UnifiedRead, account,
        body=_body(unified),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def create_unified_batch(
    account: str,
    feed_id: str,
    items: Iterable[BatchItem | Mapping[str, Any]],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[BatchRead]:
    """Many unified interactions of one feed in one call; each item succeeds or fails alone.

    An item carries one log's fields at its top level, as ``create_unified_interaction``
    does, or ``logs``: up to 100 ``LogCreate`` appended in order before the interaction is
    closed (its result: failure if any failure log, else success if any success log, else
    notification). Items of one SKU apply in order. Each result carries ``log_ids``, in
    order, and ``log_id``, the last::

        item = BatchItem(
            sku_id="1", source=Source.CHANNEL, origin=Origin.CATALOG, context=Context.SETUP,
            logs=[
                LogCreate(type=LogType.INFORMATION, description="SKU validated"),
                LogCreate(type=LogType.SUCCESS, description="Offer sent"),
            ],
        )
    """
    return Call(
        "POST", f"{API}/feeds/{segment(feed_id)}/interactions/unified/batch", BatchRead,
        account, body=[_body(item) for item in items],
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


# Offers and searches ---------------------------------------------------------------------


def list_offers(
    account: str,
    *,
    channel: Values = None,
    status: Values = None,
    origin: Values = None,
    error_code: Values = None,
    brand: str | None = None,
    category: str | None = None,
    q: str | None = None,
    stuck: bool | None = None,
    sort: str | None = None,
    from_: int | None = None,
    to: int | None = None,
    credentials: Credentials = None,
) -> Call[OfferPage]:
    """Offers with their status, filtered, with counts per status under the same filters.

    ``stuck=True``: only the offers in Sending for longer than the service's stuck time
    (longest stuck first unless ``sort`` says otherwise); ``False``: only the others.
    """
    params = {
        "channel": _csv(channel), "status": _csv(status), "origin": _csv(origin),
        "errorCode": _csv(error_code), "brand": brand, "category": category, "q": q,
        "stuck": None if stuck is None else str(stuck).lower(),
        "sort": sort, **_window(from_, to),
    }  # fmt: skip
    return Call("GET", f"{API}/offers", OfferPage, account, params, credentials=credentials)


def get_offer(
    account: str, feed_id: str, sku_id: str, credentials: Credentials = None
) -> Call[OfferDetails]:
    """One offer: open errors with their solution, status history and recent interactions."""
    path = f"{API}/feeds/{segment(feed_id)}/skus/{segment(sku_id)}"
    return Call("GET", path, OfferDetails, account, credentials=credentials)


def list_offer_interactions(
    account: str,
    feed_id: str,
    sku_id: str,
    *,
    origin: Values = None,
    result: Values = None,
    sort: str | None = None,
    from_: int | None = None,
    to: int | None = None,
    credentials: Credentials = None,
) -> Call[InteractionSummaryPage]:
    """An offer's interactions, newest first unless sorted otherwise."""
    params = {"origin": _csv(origin), "result": _csv(result), "sort": sort, **_window(from_, to)}
    return Call(
        "GET", _interactions(feed_id, sku_id), InteractionSummaryPage, account, params,
        credentials=credentials,
    )  # fmt: skip


def list_unmapped_errors(
    account: str,
    *,
    sort: str | None = None,
    from_: int | None = None,
    to: int | None = None,
    credentials: Credentials = None,
) -> Call[UnmappedErrorPage]:
    """Errors with unknown codes, grouped by the fingerprint of their description."""
    params = {"sort": sort, **_window(from_, to)}
    return Call(
        "GET", f"{API}/unmapped-errors", UnmappedErrorPage, account, params, credentials=credentials
    )


def search_interactions(
    account: str,
    *,
    q: str | None = None,
    channels: Values = None,
    brand: str | None = None,
    category: str | None = None,
    scope: str | None = None,
    result: Values = None,
    sort: str | None = None,
    from_: int | None = None,
    to: int | None = None,
    from_date: str | None = None,
    to_date: str | None = None,
    credentials: Credentials = None,
) -> Call[InteractionSearchPage]:
    """Search Interactions, with their logs."""
    params = {
        "q": q, "channels": _csv(channels), "brand": brand, "category": category,
        "scope": scope, "result": _csv(result), "sort": sort, "fromDate": from_date,
        "toDate": to_date, **_window(from_, to),
    }  # fmt: skip
    return Call(
        "GET", f"{API}/search/interactions", InteractionSearchPage, account, params,
        credentials=credentials,
    )  # fmt: skip


def search_errors(
    account: str,
    *,
    q: str | None = None,
    channels: Values = None,
    brand: str | None = None,
    category: str | None = None,
    error_category: str | None = None,
    sort: str | None = None,
    from_: int | None = None,
    to: int | None = None,
    credentials: Credentials = None,
) -> Call[ErrorSearchPage]:
    """Search Errors: the error codes with open errors on the account's offers."""
    params = {
        "q": q, "channels": _csv(channels), "brand": brand, "category": category,
        "errorCategory": error_category, "sort": sort, **_window(from_, to),
    }  # fmt: skip
    return Call(
        "GET", f"{API}/search/errors", ErrorSearchPage, account, params, credentials=credentials
    )


# Error codes, keys and tokens (no account) -----------------------------------------------


def get_error_code(
    error_code_id: str, credentials: Credentials = None
) -> Call[list[ErrorCodeRead]]:
    """An error code with its solution (an array, as the official API answers)."""
    path = f"{API}/error-codes/{segment(error_code_id)}"
    return Call("GET", path, list[ErrorCodeRead], credentials=credentials)


def list_error_codes(credentials: Credentials = None) -> Call[list[ErrorCodeRead]]:
    """The whole error-code list."""
    return Call("GET", f"{API}/error-codes", list[ErrorCodeRead], credentials=credentials)


def create_error_code(
    code: ErrorCodeCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[ErrorCodeRead]:
    """Add an error code to the global list (platform)."""
    return Call(
        "POST", f"{API}/error-codes", ErrorCodeRead, body=_body(code),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def update_error_code(
    error_code_id: str,
    code: ErrorCodeUpdate | Mapping[str, Any],
    credentials: Credentials = None,
) -> Call[ErrorCodeRead]:
    """Change a global error code's type, description or solution (platform)."""
    return Call(
        "PUT", f"{API}/error-codes/{segment(error_code_id)}", ErrorCodeRead,
        body=_body(code), credentials=credentials,
    )  # fmt: skip


def delete_error_code(error_code_id: str, credentials: Credentials = None) -> Call[None]:
    """Remove a global error code (platform); later logs with it are classified NTMAP-001."""
    path = f"{API}/error-codes/{segment(error_code_id)}"
    return Call("DELETE", path, None, credentials=credentials)


def create_key(
    key: KeyCreate | Mapping[str, Any],
    credentials: Credentials = None,
    *,
    idempotency_key: str | None = None,
) -> Call[KeyCreated]:
    """Issue an AppKey/AppToken pair for some accounts and a role (admin of those accounts,
    or platform)."""
    return Call(
        "POST", f"{API}/keys", KeyCreated, body=_body(key),
        credentials=credentials, idempotency_key=idempotency_key,
    )  # fmt: skip


def revoke_key(app_key: str, credentials: Credentials = None) -> Call[None]:
    """Revoke an AppKey (admin of all its accounts, or platform)."""
    return Call("DELETE", f"{API}/keys/{segment(app_key)}", None, credentials=credentials)


def login(app_key: str, app_token: str) -> Call[AppTokenIssued]:
    """Exchange an AppKey/AppToken for a VTEX ID token (``VtexIdclientAutCookie``)."""
    body = AppTokenLogin(app_key=app_key, app_token=app_token)
    return Call("POST", "/api/vtexid/apptoken/login", AppTokenIssued, body=body)


class OperationSet:
    """The service's operations, as methods of the clients (see ``_operations``)."""

    create_channel = Operation(create_channel)
    create_feed = Operation(create_feed)
    list_feeds = Operation(list_feeds)
    get_feed = Operation(get_feed)
    update_feed = Operation(update_feed)
    delete_feed = Operation(delete_feed)
    create_interaction = Operation(create_interaction)
    get_interaction = Operation(get_interaction)
    close_interaction = Operation(close_interaction)
    create_log = Operation(create_log)
    get_log = Operation(get_log)
    create_unified_interaction = Operation(create_unified_interaction)
    create_unified_batch = Operation(create_unified_batch)
    list_offers = Operation(list_offers)
    get_offer = Operation(get_offer)
    list_offer_interactions = Operation(list_offer_interactions)
    list_unmapped_errors = Operation(list_unmapped_errors)
    search_interactions = Operation(search_interactions)
    search_errors = Operation(search_errors)
    get_error_code = Unscoped(get_error_code)
    list_error_codes = Unscoped(list_error_codes)
    create_error_code = Unscoped(create_error_code)
    update_error_code = Unscoped(update_error_code)
    delete_error_code = Unscoped(delete_error_code)
    update_channel = Unscoped(update_channel)
    create_key = Unscoped(create_key)
    revoke_key = Unscoped(revoke_key)
    login = Unscoped(login)

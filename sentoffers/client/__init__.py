"""The Python SDK of sentoffers: the counterpart of the .NET ``SentOffers.SDK``, and more.

::

    from sentoffers.client import SentOffersClient, SentOffersCredentials

    credentials = SentOffersCredentials(app_key="vtexappkey-acme-XYZ", app_token="...")
    with SentOffersClient("http://127.0.0.1:8000", credentials=credentials) as client:
        response = client.create_feed(
            "acme", {"id": "vtex.netshoes", "salesChannel": "1", "affiliateId": "NTS"}
        )
        if not response.ok:
            print(response.errors)

Ported from the .NET ``SentOffers.SDK``, the SDK document's calls keep their shape: the
call's credentials come last, and the DTOs keep their names and PascalCase properties
(see ``_dotnet``)::

    response = client.create_feed(
        "account",
        FeedCreateDTO(Id="vtex.marketplace", SalesChannel="1", AffiliatedId="AFL"),
        credentials,
    )

``AsyncSentOffersClient`` has the same operations as coroutines. Every call returns a
``SentOffersResponse``; ``raise_for_errors()`` turns a failed one into an exception (see
``sentoffers.client._errors`` for the hierarchy). Calls are retried on lost answers, 429
and 5xx, and every POST carries an Idempotency-Key so a retry never writes twice.
"""

from sentoffers.client._api import OperationSet
from sentoffers.client._client import (
    AccountClient,
    AsyncAccountClient,
    AsyncSentOffersClient,
    SentOffersClient,
)
from sentoffers.client._credentials import CredentialsLike, SentOffersCredentials
from sentoffers.client._dotnet import (
    CreateLogDataRequest,
    CreateLogDTO,
    CreateLogErrorRequest,
    FeedCreateDTO,
    FeedCreateResponseDto,
    InteractionContextType,
    InteractionCreateDTO,
    InteractionSourceType,
    OriginType,
    UnifiedInteractionCreateDTO,
)
from sentoffers.client._entries import (
    ChannelError,
    KnownCode,
    error_entry,
    evidence,
    exception_failure,
    unmapped_failure,
)
from sentoffers.client._errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SentOffersError,
    ServerError,
    TransportError,
    ValidationError,
)
from sentoffers.client._interaction import AsyncOpenInteraction, OpenInteraction
from sentoffers.client._operations import Call
from sentoffers.client._response import ErrorItem, SentOffersResponse
from sentoffers.client.retry import RetryPolicy
from sentoffers.contract.channels import ChannelCreate, ChannelRead, ChannelUpdate
from sentoffers.contract.error_codes import ErrorCodeCreate, ErrorCodeRead, ErrorCodeUpdate
from sentoffers.contract.feeds import FeedCreate, FeedCreated, FeedRead, FeedUpdate
from sentoffers.contract.interactions import (
    BatchItem,
    BatchItemResult,
    BatchRead,
    InteractionCreate,
    InteractionRead,
    LogCreate,
    LogCreated,
    LogRead,
    UnifiedCreate,
    UnifiedRead,
)
from sentoffers.contract.interactions import (
    DataIn as LogData,
)
from sentoffers.contract.interactions import (
    ErrorIn as LogError,
)
from sentoffers.contract.interactions import (
    EvidenceIn as Evidence,
)
from sentoffers.contract.keys import AppTokenIssued, KeyCreate, KeyCreated
from sentoffers.contract.offers import (
    InteractionSummaryPage,
    OfferDetails,
    OfferPage,
    OfferSummary,
    UnmappedErrorPage,
)
from sentoffers.contract.search import ErrorSearchPage, InteractionSearchPage
from sentoffers.domain.model import Context, DataStatus, LogType, Origin, Role, Source

__all__ = [
    "AccountClient",
    "ApiError",
    "AppTokenIssued",
    "AsyncAccountClient",
    "AsyncOpenInteraction",
    "AsyncSentOffersClient",
    "AuthenticationError",
    "BatchItem",
    "BatchItemResult",
    "BatchRead",
    "Call",
    "ChannelCreate",
    "ChannelError",
    "ChannelRead",
    "ChannelUpdate",
    "ConflictError",
    "Context",
    "CreateLogDTO",
    "CreateLogDataRequest",
    "CreateLogErrorRequest",
    "CredentialsLike",
    "DataStatus",
    "ErrorCodeCreate",
    "ErrorCodeRead",
    "ErrorCodeUpdate",
    "ErrorItem",
    "ErrorSearchPage",
    "Evidence",
    "FeedCreate",
    "FeedCreateDTO",
    "FeedCreateResponseDto",
    "FeedCreated",
    "FeedRead",
    "FeedUpdate",
    "GoneError",
    "InteractionContextType",
    "InteractionCreate",
    "InteractionCreateDTO",
    "InteractionRead",
    "InteractionSearchPage",
    "InteractionSourceType",
    "InteractionSummaryPage",
    "KeyCreate",
    "KeyCreated",
    "KnownCode",
    "LogCreate",
    "LogCreated",
    "LogData",
    "LogError",
    "LogRead",
    "LogType",
    "NotFoundError",
    "OfferDetails",
    "OfferPage",
    "OfferSummary",
    "OpenInteraction",
    "OperationSet",
    "Origin",
    "OriginType",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryPolicy",
    "Role",
    "SentOffersClient",
    "SentOffersCredentials",
    "SentOffersError",
    "SentOffersResponse",
    "ServerError",
    "Source",
    "TransportError",
    "UnifiedCreate",
    "UnifiedInteractionCreateDTO",
    "UnifiedRead",
    "UnmappedErrorPage",
    "ValidationError",
    "error_entry",
    "evidence",
    "exception_failure",
    "unmapped_failure",
]

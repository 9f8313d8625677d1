"""The .NET ``SentOffers.SDK``'s names, for connectors ported from the SDK document.

Each name is the Python SDK's own class or enum member under its .NET name, nothing new:

======================================  ===================================================
.NET                                    Python
======================================  ===================================================
``FeedCreateDTO``                       ``FeedCreate``
``FeedCreateResponseDto``               ``FeedCreated``
``InteractionCreateDTO``                ``InteractionCreate``
``CreateLogDTO``                        ``LogCreate``
``CreateLogDataRequest``                ``LogData``
``CreateLogErrorRequest``               ``LogError``
``UnifiedInteractionCreateDTO``         ``UnifiedCreate``
``InteractionSourceType.seller``        ``Source.SELLER``
``OriginType.inventory``                ``Origin.INVENTORY``
``InteractionContextType.sync``         ``Context.ONGOING`` (``sync`` is .NET's word for it)
======================================  ===================================================

The models take the DTOs' PascalCase property names as keywords, and their values as the
.NET SDK sends them (``Type="Info"``, ``Status="Synchronized"``, ``Price=124``, a
``DateTime.Now.ToString()`` date)::

    log = CreateLogDTO(
        Description="sdk test", Type="Info", Agent="channel", Date="12/3/2026 2:05:09 PM",
        Data=CreateLogDataRequest(Status="Synchronized", Price=124, Currency="BRL"),
    )
"""

from __future__ import annotations

from typing import Final

from sentoffers.contract.feeds import FeedCreate, FeedCreated
from sentoffers.contract.interactions import (
    DataIn,
    ErrorIn,
    InteractionCreate,
    LogCreate,
    UnifiedCreate,
)
from sentoffers.domain.model import Context, Origin, Source

__all__ = [
    "CreateLogDTO",
    "CreateLogDataRequest",
    "CreateLogErrorRequest",
    "FeedCreateDTO",
    "FeedCreateResponseDto",
    "InteractionContextType",
    "InteractionCreateDTO",
    "InteractionSourceType",
    "OriginType",
    "UnifiedInteractionCreateDTO",
]

FeedCreateDTO = FeedCreate
FeedCreateResponseDto = FeedCreated
InteractionCreateDTO = InteractionCreate
CreateLogDTO = LogCreate
CreateLogDataRequest = DataIn
CreateLogErrorRequest = ErrorIn
UnifiedInteractionCreateDTO = UnifiedCreate


class InteractionSourceType:
    """.NET's ``InteractionSourceType``: who started the interaction (``Source``)."""

    seller: Final = Source.SELLER
    channel: Final = Source.CHANNEL


class OriginType:
    """.NET's ``OriginType``: what the interaction is about (``Origin``)."""

    catalog: Final = Origin.CATALOG
    price: Final = Origin.PRICE
    inventory: Final = Origin.INVENTORY


class InteractionContextType:
    """.NET's ``InteractionContextType``: ``setup``, or ``sync`` for an update of an offer
    already on the channel (``Context.ONGOING``; the service reads the word ``sync`` too)."""

    setup: Final = Context.SETUP
    sync: Final = Context.ONGOING
    ongoing: Final = Context.ONGOING

from __future__ import annotations

from pydantic import Field

from sentoffers.contract import Paging, ReadModel
from sentoffers.contract.error_codes import ErrorCodeRead
from sentoffers.contract.interactions import InteractionRead, Notice


class InteractionSearchPage(ReadModel):
    items: list[InteractionRead]
    paging: Paging


class ErrorCodeCount(ErrorCodeRead):
    open_errors: int | None = None
    last_seen: str | None = Field(
        default=None,
        description="The date of the newest open error with this code on the offers searched; "
        "given when the list is sorted by it (`lastSeen` or `startDate`).",
    )


class ErrorSearchPage(ReadModel):
    items: list[ErrorCodeCount]
    paging: Paging
    warnings: list[Notice] | None = Field(
        default=None,
        description="What of the request was not honoured, and what was done instead "
        "(`sort_ignored`); absent when all was.",
    )

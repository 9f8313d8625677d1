from __future__ import annotations

from sentoffers.contract import Paging, ReadModel
from sentoffers.error_codes.schemas import ErrorCodeRead
from sentoffers.interactions.schemas import InteractionRead


class InteractionSearchPage(ReadModel):
    items: list[InteractionRead]
    paging: Paging


class ErrorCodeCount(ErrorCodeRead):
    open_errors: int | None = None


class ErrorSearchPage(ReadModel):
    items: list[ErrorCodeCount]
    paging: Paging

from __future__ import annotations

from pydantic import Field

from sentoffers.contract import CompatModel, ReadModel

CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+$"


class ErrorCodeRead(ReadModel):
    id: str
    type: str
    description: str
    solution_text: str | None = None
    solution_link: str | None = None


class ErrorCodeUpdate(CompatModel):
    type: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    solution_text: str | None = Field(default=None, max_length=1000)
    solution_link: str | None = Field(
        default=None,
        max_length=2000,
        description="May hold {accountName}, {skuId} and {productId}, filled per offer.",
    )


class ErrorCodeCreate(ErrorCodeUpdate):
    id: str = Field(min_length=3, max_length=64, pattern=CODE_PATTERN, examples=["SHIP-001"])


class ErrorCodeOverride(CompatModel):
    """An account's own solution for a global code; its type and description stay global."""

    solution_text: str | None = Field(default=None, max_length=1000)
    solution_link: str | None = Field(
        default=None,
        max_length=2000,
        description="May hold {accountName}, {skuId} and {productId}, filled per offer.",
    )

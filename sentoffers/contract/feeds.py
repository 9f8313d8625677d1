from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sentoffers.contract import CompatModel, FeedIdIn, Line, ReadModel

_SALES_CHANNEL_SPELLINGS = {
    "salesChannels": "salesChannel",
    "salesChannelId": "salesChannel",
    "tradePolicy": "salesChannel",
    "sc": "salesChannel",
    "affiliatedId": "affiliateId",
    "affiliate": "affiliateId",
    "idAffiliate": "affiliateId",
}


class FeedCreate(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {**_SALES_CHANNEL_SPELLINGS, "feedId": "id"}

    id: FeedIdIn = Field(min_length=1, max_length=128)
    affiliate_id: Line = Field(min_length=1, max_length=64)
    sales_channel: Line = Field(min_length=1, max_length=64)


class FeedUpdate(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = _SALES_CHANNEL_SPELLINGS

    affiliate_id: Line = Field(min_length=1, max_length=64)
    sales_channel: Line = Field(min_length=1, max_length=64)


class FeedCreated(ReadModel):
    account: str
    id: str
    affiliate_id: str
    sales_channel: str


class FeedRead(FeedCreated):
    channel_name: str
    channel_logo: str

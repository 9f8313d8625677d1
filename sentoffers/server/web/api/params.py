"""Path and query parameters that name ids, named in Python as in the contract's paths.

Each is normalised here, at the edge, by its kind's rule (``sentoffers.domain.ids``): the
routes hand the features ids already normalised, and the features match them as given.
A rule that refuses an id (a blank SKU id) answers 400 with the parameter named, like any
other invalid parameter. The validators change no part of the OpenAPI schema.
"""

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from sentoffers.domain.ids import normalize_feed_id, normalize_id, normalize_sku_id


def _trimmed(value: str) -> str:
    return value.strip()


def _each_feed_id(value: str | None) -> str | None:
    """A comma list of feed ids, each normalised (``csv_values`` then splits it)."""
    if value is None:
        return None
    return ",".join(normalize_feed_id(part) for part in value.split(","))


FeedId = Annotated[
    str,
    Path(alias="feedId", max_length=128, description="The feed (channel) id"),
    AfterValidator(normalize_feed_id),
]
ChannelId = Annotated[
    str,
    Path(alias="channelId", max_length=128),
    AfterValidator(_trimmed),
    AfterValidator(normalize_feed_id),
]
"""A channel's id, which is also the id of its feeds: trimmed, then a feed id."""
SkuId = Annotated[
    str,
    Path(alias="skuId", max_length=128, description="The seller's SKU id"),
    AfterValidator(normalize_sku_id),
]
"""The SKU id of a write: without the blanks around it, and never blank."""
SkuIdAsSent = Annotated[str, Path(alias="skuId", max_length=128, description="The seller's SKU id")]
"""The SKU id of a read, looked up exactly as sent: one with blanks around it, or a blank
one, names no offer (404), as writes never store one."""
InteractionId = Annotated[
    str, Path(alias="interactionId", max_length=64), AfterValidator(normalize_id)
]
LogId = Annotated[str, Path(alias="logId", max_length=64), AfterValidator(normalize_id)]

_FEED_IDS = (
    "A feed id (its channel's id, such as `vtex.amazon`), or a comma list of them; "
    "matched without regard to case."
)
ChannelParam = Annotated[
    str | None,
    Query(alias="channel", max_length=2000, description=_FEED_IDS),
    AfterValidator(_each_feed_id),
]
"""``channel``: the feed ids a list is narrowed to."""
ChannelsParam = Annotated[
    str | None,
    Query(alias="channels", max_length=2000, description=_FEED_IDS),
    AfterValidator(_each_feed_id),
]
"""``channels``: the feed ids a search is narrowed to."""

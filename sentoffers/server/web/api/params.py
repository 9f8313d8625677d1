"""Path parameters, named in Python as in the contract's paths."""

from typing import Annotated

from fastapi import Path

FeedId = Annotated[str, Path(alias="feedId", max_length=128, description="The feed (channel) id")]
SkuId = Annotated[str, Path(alias="skuId", max_length=128, description="The seller's SKU id")]
InteractionId = Annotated[str, Path(alias="interactionId", max_length=64)]
LogId = Annotated[str, Path(alias="logId", max_length=64)]

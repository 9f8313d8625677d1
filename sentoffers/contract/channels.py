from __future__ import annotations

from pydantic import Field

from sentoffers.contract import CompatModel, ReadModel


class ChannelCreate(CompatModel):
    vendor: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    logo: str = Field(min_length=1, max_length=4000)


class ChannelUpdate(CompatModel):
    """A channel's new name and logo (its id and vendor never change)."""

    name: str = Field(min_length=1, max_length=200)
    logo: str = Field(min_length=1, max_length=4000)


class ChannelRead(ReadModel):
    id: str
    vendor: str
    name: str
    logo: str

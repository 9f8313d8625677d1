from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sentoffers.contract import CompatModel, Line, ReadModel
from sentoffers.domain.model import Role


class KeyCreate(CompatModel):
    role: Role
    accounts: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="At least one for an admin, connector or viewer key ('*': every account, "
        "admin only); none for a platform key.",
    )
    label: str | None = Field(default=None, max_length=200)


class KeyCreated(ReadModel):
    app_key: str
    app_token: str
    role: Role
    accounts: list[str]


class AppTokenLogin(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {"appkey": "appKey", "apptoken": "appToken"}

    app_key: Line = Field(min_length=1, max_length=256)
    app_token: Line = Field(min_length=1, max_length=256)


class AppTokenIssued(ReadModel):
    auth_status: str
    token: str
    expires: int

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sentoffers.contract import CompatModel, ReadModel
from sentoffers.domain.model import Role


class KeyCreate(CompatModel):
    role: Role
    accounts: list[str] = Field(min_length=1, max_length=1000)
    label: str | None = Field(default=None, max_length=200)


class KeyCreated(ReadModel):
    app_key: str
    app_token: str
    role: Role
    accounts: list[str]


class AppTokenLogin(CompatModel):
    key_aliases: ClassVar[dict[str, str]] = {"appkey": "appKey", "apptoken": "appToken"}

    app_key: str = Field(min_length=1)
    app_token: str = Field(min_length=1)


class AppTokenIssued(ReadModel):
    auth_status: str
    token: str
    expires: int

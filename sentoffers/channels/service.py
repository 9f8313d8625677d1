"""Creating channels. Channels are global; their id is ``vendor.channel-slug``."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import insert, select

from sentoffers.channels.schemas import ChannelCreate, ChannelRead
from sentoffers.errors import Conflict, InvalidInput, Problem
from sentoffers.store.db import Database
from sentoffers.store.tables import channels

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """``Mercado Livre Clássico`` becomes ``mercado-livre-classico``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def channel_id(vendor: str, name: str) -> str:
    vendor_slug, name_slug = slugify(vendor), slugify(name)
    problems = []
    if not vendor_slug:
        problems.append(("vendor", "the vendor must hold at least one letter or digit"))
    if not name_slug:
        problems.append(("name", "the name must hold at least one letter or digit"))
    if problems:
        raise InvalidInput.of([Problem("invalid", message, field) for field, message in problems])
    return f"{vendor_slug}.{name_slug}"


def create(db: Database, account: str, body: ChannelCreate) -> ChannelRead:
    new_id = channel_id(body.vendor, body.name)
    with db.unit_of_work() as uow:
        if uow.conn.execute(select(channels.c.id).where(channels.c.id == new_id)).first():
            raise Conflict(
                f"channel {new_id!r} already exists; channels are created once per marketplace",
                code="channel_exists",
            )
        uow.conn.execute(
            insert(channels).values(
                id=new_id,
                vendor=body.vendor.strip(),
                name=body.name.strip(),
                logo=body.logo.strip(),
                created_by_account=account,
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return ChannelRead(
        id=new_id, vendor=body.vendor.strip(), name=body.name.strip(), logo=body.logo.strip()
    )

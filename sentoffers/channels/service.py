"""Creating and changing channels. Channels are global; their id is ``vendor.channel-slug``."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy import update as update_rows

from sentoffers.channels.schemas import ChannelCreate, ChannelRead, ChannelUpdate
from sentoffers.errors import Conflict, InvalidInput, NotFound, Problem
from sentoffers.store.db import Database
from sentoffers.store.tables import FEED, channels

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_ID_LENGTH = FEED.length or 128
"""What the channel id column holds (a feed's id is its channel's)."""


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
    new_id = f"{vendor_slug}.{name_slug}"
    if not problems and len(new_id) > MAX_ID_LENGTH:
        too_long = f"the channel id would be over {MAX_ID_LENGTH} characters"
        problems.append(("name", f"{too_long}: shorten the vendor or the name"))
    if problems:
        raise InvalidInput.of([Problem("invalid", message, field) for field, message in problems])
    return new_id


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


def update(db: Database, id_: str, body: ChannelUpdate) -> ChannelRead:
    """Change a channel's name and logo, which every account's feeds of it show.

    The id stays what it was created as: feeds and offers refer to it.
    """
    id_ = id_.strip().lower()
    name, logo = body.name.strip(), body.logo.strip()
    with db.unit_of_work() as uow:
        vendor = uow.conn.execute(select(channels.c.vendor).where(channels.c.id == id_)).scalar()
        if vendor is None:
            raise NotFound(f"no channel {id_!r}", field="channelId")
        uow.conn.execute(
            update_rows(channels).where(channels.c.id == id_).values(name=name, logo=logo)
        )
        uow.commit()
    return ChannelRead(id=id_, vendor=vendor, name=name, logo=logo)

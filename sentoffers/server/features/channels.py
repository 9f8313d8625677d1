"""Channels: the marketplaces offers are sent to; their id is ``vendor.channel-slug``.

A channel is global: every account's feeds of ``vtex.amazon`` show the same name and logo.
Creating one is first come (a connector or admin, for one of its accounts; a second create
is a conflict, never a change), and only a platform key changes it afterwards, so no account
changes what another account shows.

A channel's id, when a request names one, arrives normalised as a feed id
(``sentoffers.domain.ids.normalize_feed_id``) and is matched as given.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy import update as update_rows

from sentoffers.contract.channels import ChannelCreate, ChannelRead, ChannelUpdate
from sentoffers.domain.errors import Conflict, NotFound
from sentoffers.domain.ids import channel_id
from sentoffers.server.store.tables import channels
from sentoffers.sql.db import Database


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

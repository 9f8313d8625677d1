from __future__ import annotations

from fastapi import APIRouter, Response

from sentoffers.contract.channels import ChannelCreate, ChannelRead, ChannelUpdate
from sentoffers.domain import permissions
from sentoffers.domain.errors import Forbidden
from sentoffers.server.features import channels as service
from sentoffers.server.web.api.auth import CurrentPrincipal, WriteTenant
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import Db
from sentoffers.server.web.api.idempotency import IdempotencyKeyDep, keyed_write
from sentoffers.server.web.api.params import ChannelId

router = APIRouter(prefix="/api/sent-offers", tags=["Channels"], route_class=ContractRoute)


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelRead,
    summary="Create Channel",
    operation_id="CreateChannel",
)
def create_channel(
    body: ChannelCreate, tenant: WriteTenant, keyed: IdempotencyKeyDep, db: Db
) -> Response:
    """Create the channel of a marketplace, once; its id is ``vendor.channel-slug``.

    Channels are global and first come: a second create of the same id is a conflict and
    changes nothing, so no account changes what another shows.
    """
    if not permissions.may_create_channel(tenant.principal, tenant.account):
        raise Forbidden("only a connector or admin key creates channels", field="an")
    with keyed_write(db, keyed) as write:
        return write.answer(201, service.create(write.db, tenant.account, body))


@router.put(
    "/channels/{channelId}",
    response_model=ChannelRead,
    summary="Change a channel's name and logo (platform)",
)
def update_channel(
    id_: ChannelId,
    body: ChannelUpdate,
    principal: CurrentPrincipal,
    db: Db,
) -> ChannelRead:
    """Every account's feeds of the channel show its name and logo, so only a platform key
    (the service operator's) changes them, e.g. to correct what its first creator set."""
    if not permissions.may_change_channel(principal):
        raise Forbidden(
            "only a platform key changes a channel, which every account shows",
            code="platform_only",
        )
    return service.update(db, id_, body)

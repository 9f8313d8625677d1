from __future__ import annotations

from fastapi import APIRouter, Request

from sentoffers.api.auth import WriteTenant
from sentoffers.api.compat import ContractRoute
from sentoffers.channels import service
from sentoffers.channels.schemas import ChannelCreate, ChannelRead

router = APIRouter(prefix="/api/sent-offers", tags=["Channels"], route_class=ContractRoute)


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelRead,
    summary="Create Channel",
    operation_id="CreateChannel",
)
def create_channel(body: ChannelCreate, tenant: WriteTenant, request: Request) -> ChannelRead:
    """Create the channel of a marketplace, once; its id is ``vendor.channel-slug``."""
    return service.create(request.app.state.db, tenant.account, body)

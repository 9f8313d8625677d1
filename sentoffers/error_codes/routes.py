from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from sentoffers.api.auth import CurrentPrincipal, principal_of
from sentoffers.api.compat import ContractRoute
from sentoffers.error_codes import service
from sentoffers.error_codes.schemas import ErrorCodeCreate, ErrorCodeRead, ErrorCodeUpdate

router = APIRouter(
    prefix="/api/sent-offers/error-codes", tags=["Error codes"], route_class=ContractRoute
)

CodeId = Annotated[str, Path(alias="errorCodeId", max_length=64)]


@router.get(
    "/{errorCodeId}",
    response_model=list[ErrorCodeRead],
    summary="Get Error Code data by errorCodeId",
    operation_id="RetrieveErrorCode",
    dependencies=[Depends(principal_of)],
)
def get_error_code(code_id: CodeId, request: Request) -> list[ErrorCodeRead]:
    """The code, as a list holding it (the contract's shape). Error codes are global."""
    return [service.get(request.app.state.db, code_id)]


@router.get(
    "",
    response_model=list[ErrorCodeRead],
    summary="List every error code",
    dependencies=[Depends(principal_of)],
)
def list_error_codes(request: Request) -> list[ErrorCodeRead]:
    return service.list_codes(request.app.state.db)


@router.post("", status_code=201, response_model=ErrorCodeRead, summary="Create an error code")
def create_error_code(
    body: ErrorCodeCreate, principal: CurrentPrincipal, request: Request
) -> ErrorCodeRead:
    """Admins maintain the list; connectors then use the code, with their own suffixes."""
    principal.require_admin()
    created = service.create(request.app.state.db, body)
    request.app.state.error_codes.reload()
    return created


@router.put("/{errorCodeId}", response_model=ErrorCodeRead, summary="Update an error code")
def update_error_code(
    code_id: CodeId, body: ErrorCodeUpdate, principal: CurrentPrincipal, request: Request
) -> ErrorCodeRead:
    principal.require_admin()
    return service.replace(request.app.state.db, code_id, body)


@router.delete(
    "/{errorCodeId}", status_code=204, response_class=Response, summary="Delete an error code"
)
def delete_error_code(code_id: CodeId, principal: CurrentPrincipal, request: Request) -> Response:
    """Later logs with this code are classified NTMAP-001; errors already open keep it."""
    principal.require_admin()
    service.remove(request.app.state.db, code_id)
    request.app.state.error_codes.reload()
    return Response(status_code=204)
